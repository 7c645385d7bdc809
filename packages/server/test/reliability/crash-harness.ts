import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createApiKey } from '../../src/domain/api-keys.ts';
import { CLI_ACTOR } from '../../src/domain/audit.ts';
import { issueAuthorizationCode } from '../../src/domain/authorization-codes.ts';
import { migrate, openStorage } from '../../src/storage/database.ts';
import { type Db, inTransaction } from '../../src/storage/transaction.ts';
import { freePort } from '../helpers/http.ts';
import { createScaleOutDatabase, deploymentEnv, type Instance, startInstance } from '../helpers/instances.ts';
import { type Seed, seed } from '../helpers/seed.ts';
import type { DialectName } from '../helpers/test-app.ts';

export const REDIRECT_URI = 'https://app.example/callback';
/** Every code asks for a refresh token, so that each exchange writes a code, an access and a refresh token. */
const CODE_SCOPE = 'api1 offline_access';
/** Keys of organization A that the admin key rotates (write keys: an admin key may rotate them). */
const ROTATION_TARGETS = 4;
/** How long a killed process may take to be reaped. */
const EXIT_TIMEOUT_MS = 5_000;

/** One database, seeded, and the `gatehouse serve` process currently running on it. */
export interface CrashDeployment {
  readonly dialect: DialectName;
  readonly seed: Seed;
  /** Public keys of the keys the rotation stream rotates. */
  readonly rotationTargets: readonly string[];
  /** The running process (replaced by each {@link CrashDeployment.restart}). */
  instance: Instance;
  /** Starts a new process on the same database (the previous one must be dead). */
  restart(): Promise<Instance>;
  /** Runs `work` on a connection of the test's own, closed afterwards. */
  withDatabase<T>(work: (db: Db) => Promise<T>): Promise<T>;
  /** Stops the process and drops the database. */
  close(): Promise<void>;
}

/** A migrated, empty database: a SQLite file in a temporary folder, or a PostgreSQL database of its own. */
async function emptyDatabase(
  dialect: DialectName,
): Promise<{ url: string; secret: string; drop: () => Promise<void> }> {
  if (dialect === 'postgres') return createScaleOutDatabase();
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-crash-'));
  const url = join(dir, 'gatehouse.db');
  const storage = openStorage(url);
  try {
    await migrate(storage);
  } finally {
    await storage.close();
  }
  return {
    url,
    secret: randomBytes(32).toString('base64url'),
    drop: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * A seeded database (see {@link seed}, plus keys to rotate) with one `gatehouse serve` process on it.
 * Limits are lifted: the streams send thousands of requests per minute from one address.
 */
export async function startCrashDeployment(dialect: DialectName): Promise<CrashDeployment> {
  const database = await emptyDatabase(dialect);
  const withDatabase = async <T>(work: (db: Db) => Promise<T>): Promise<T> => {
    const storage = openStorage(database.url, { poolSize: 2 });
    try {
      return await work(storage.db);
    } finally {
      await storage.close();
    }
  };
  try {
    const seeded = await withDatabase((db) => seed(db));
    const rotationTargets = await withDatabase(async (db) => {
      const targets: string[] = [];
      for (let i = 0; i < ROTATION_TARGETS; i++) {
        const issued = await createApiKey(
          db,
          { tenantId: seeded.a.tenantId, label: `rotated ${i}` },
          CLI_ACTOR,
        );
        targets.push(issued.key.publicKey);
      }
      return targets;
    });
    const env = deploymentEnv(database, {
      issuer: `http://127.0.0.1:${await freePort()}`,
      redis: false,
      GATEHOUSE_RATE_LIMIT: 10_000_000,
      GATEHOUSE_TOKEN_RATE_LIMIT: 10_000_000,
    });
    let generation = 0;
    const start = () => startInstance(`${dialect}-${generation++}`, env);
    const deployment: CrashDeployment = {
      dialect,
      seed: seeded,
      rotationTargets,
      instance: await start(),
      async restart() {
        if (deployment.instance.alive()) throw new Error('restart of a process that is still running');
        deployment.instance = await start();
        return deployment.instance;
      },
      withDatabase,
      async close() {
        await deployment.instance.stop();
        await database.drop();
      },
    };
    return deployment;
  } catch (error) {
    await database.drop();
    throw error;
  }
}

/**
 * Issues `n` authorization codes of organization A's owner to A's org key, as the authorization
 * endpoint does once the user consented (same domain function), on the test's own connection: the
 * front channel (sign-in, consent) is not what these tests kill.
 */
export function issueCodes(deployment: CrashDeployment, n: number): Promise<string[]> {
  const { seed: s } = deployment;
  return deployment.withDatabase((db) =>
    inTransaction(db, async (trx) => {
      const codes: string[] = [];
      for (let i = 0; i < n; i++) {
        codes.push(
          await issueAuthorizationCode(trx, {
            apiKeyId: s.orgKeyA.key.id,
            userId: s.a.userId,
            redirectUri: REDIRECT_URI,
            scope: CODE_SCOPE,
            codeChallenge: null,
            nonce: null,
            authTime: null,
            sid: null,
          }),
        );
      }
      return codes;
    }),
  );
}

/** What one kill cut: the steps it left without an answer (requests in flight when the process died). */
export interface KillOutcome {
  cut: number;
}

/** A request that got no answer: refused, reset, or cut in the middle of the answer. */
const isTransportFailure = (error: unknown) => error instanceof TypeError;

/**
 * Runs `workers` loops of `step` at once against the running process and SIGKILLs that process (its
 * own PID) `killAfterMs` into the stream, while requests are in flight. A step records what it was
 * answered and throws on an answer it does not expect; before the kill, any failure fails the stream.
 */
export async function streamUntilKilled(
  instance: Instance,
  workers: number,
  step: (worker: number) => Promise<void>,
  killAfterMs: number,
): Promise<KillOutcome> {
  let killed = false;
  let cut = 0;
  const loops = Array.from({ length: workers }, async (_, worker) => {
    while (!killed) {
      try {
        await step(worker);
      } catch (error) {
        if (killed && isTransportFailure(error)) {
          cut++;
          return;
        }
        throw error;
      }
    }
  });
  const failed = Promise.race(loops.map((loop) => loop.then(() => new Promise<never>(() => {}))));
  await Promise.race([sleep(killAfterMs), failed]).catch(() => {});
  killed = true;
  if (!instance.alive()) {
    await Promise.allSettled(loops);
    throw new Error(`${instance.name} exited before the kill:\n${instance.output()}`);
  }
  process.kill(instance.pid, 'SIGKILL');
  const deadline = Date.now() + EXIT_TIMEOUT_MS;
  while (instance.alive() && Date.now() < deadline) await sleep(10);
  if (instance.alive()) throw new Error(`${instance.name} survived SIGKILL`);
  const settled = await Promise.allSettled(loops);
  const failure = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failure) throw failure.reason;
  return { cut };
}

/** The claims of a JWT's payload, unverified (the server's own token, read for its `jti`). */
export function jwtClaims(token: string): Record<string, unknown> {
  const payload = token.split('.')[1];
  if (payload === undefined) throw new Error('not a JWT');
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
}
