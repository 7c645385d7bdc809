import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll } from 'vitest';
import type { AppOptions } from '../../src/app.ts';
import type { Storage } from '../../src/storage/database.ts';
import { type Seed, seed } from './seed.ts';
import { createTestApp, type DialectName, type TestApp } from './test-app.ts';

/** The app of a suite, readable from its tests and hooks (after the suite's first `beforeAll`). */
export interface SeededApp {
  readonly t: TestApp;
  readonly app: FastifyInstance;
  readonly storage: Storage;
  /** The two tenants, their workspaces and keys of {@link seed}. */
  readonly seed: Seed;
}

/**
 * Registers, in the calling `describe` (usually a `describeEachDialect` body), a `beforeAll` that
 * builds an app on an isolated database and seeds it, and an `afterAll` that closes both. Returns the
 * suite's handle: its getters are valid in tests and in the hooks registered after this call (hooks
 * run in order), and throw when read earlier, e.g. in the describe body itself.
 *
 * @example
 * ```ts
 * describeEachDialect('workspaces', (dialect) => {
 *   const ctx = useSeededApp(dialect);
 *   it('lists', async () => {
 *     const res = await ctx.app.inject({ url: '/v1/workspaces', headers: { 'x-api-key': ctx.seed.orgKeyA.privateKey } });
 *   });
 * });
 * ```
 */
export function useSeededApp(
  dialect: DialectName,
  env: Record<string, string> = {},
  options: Omit<AppOptions, 'storage'> = {},
): SeededApp {
  let state: { t: TestApp; seed: Seed } | undefined;
  const ready = (what: string) => {
    if (!state) {
      throw new Error(
        `useSeededApp: ${what} was read before the suite's beforeAll built the app; read it inside a test or a later hook`,
      );
    }
    return state;
  };
  beforeAll(async () => {
    const t = await createTestApp(dialect, env, options);
    try {
      state = { t, seed: await seed(t.app.services.db) };
    } catch (error) {
      await t.close();
      throw error;
    }
  });
  afterAll(async () => {
    await state?.t.close();
    state = undefined;
  });
  return {
    get t() {
      return ready('t').t;
    },
    get app() {
      return ready('app').t.app;
    },
    get storage() {
      return ready('storage').t.storage;
    },
    get seed() {
      return ready('seed').seed;
    },
  };
}
