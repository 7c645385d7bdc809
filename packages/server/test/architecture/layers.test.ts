import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildImportGraph, checkLayers } from './import-graph.ts';

describe('layering of packages/server/src (DESIGN.md section 2)', () => {
  it('has no layering violation, no import cycle, no dangling import, no file outside the layers', () => {
    const graph = buildImportGraph(resolve(import.meta.dirname, '../../src'));
    // Reading nothing would pass vacuously.
    expect(graph.size).toBeGreaterThan(50);
    const violations = checkLayers(graph);
    expect(violations, `${violations.length} violations:\n${violations.join('\n')}\n`).toEqual([]);
  });
});

// A slice of the intended structure that uses every kind of allowed edge; each case below adds one
// forbidden import to it, so that the checker is shown to catch it (and only it).
const CLEAN: Record<string, string[]> = {
  'src/model/tenant.ts': [],
  'src/errors/errors.ts': ['src/errors/codes.ts'],
  'src/errors/codes.ts': [],
  'src/config/config.ts': ['src/errors/errors.ts', 'node:fs'],
  'src/storage/schema.ts': ['kysely', 'src/model/tenant.ts'],
  'src/storage/database.ts': [
    'kysely',
    'pg',
    'better-sqlite3',
    'src/storage/schema.ts',
    'src/config/config.ts',
  ],
  'src/storage/transaction.ts': ['kysely', 'src/storage/database.ts'],
  'src/storage/redis.ts': ['ioredis'],
  'src/storage/counters.ts': ['src/storage/redis.ts'],
  'src/storage/migrations/index.ts': ['kysely', 'src/storage/schema.ts'],
  'src/storage/repositories/tenants.ts': ['kysely', 'src/storage/schema.ts', 'src/model/tenant.ts'],
  'src/domain/tenants.ts': [
    'src/storage/repositories/tenants.ts',
    'src/storage/transaction.ts',
    'node:crypto',
  ],
  'src/auth/authenticate.ts': ['src/domain/tenants.ts', 'src/storage/counters.ts', 'src/errors/errors.ts'],
  'src/services.ts': ['src/auth/authenticate.ts', 'src/storage/database.ts', 'src/storage/redis.ts'],
  'src/http/error-handler.ts': ['fastify', 'src/services.ts', 'src/errors/errors.ts'],
  'src/api/tenants.ts': ['fastify', 'src/http/error-handler.ts', 'src/domain/tenants.ts'],
  'src/oauth/revocation.ts': [
    '@fastify/formbody',
    'src/oauth/token/refresh-token.ts',
    'src/storage/transaction.ts',
  ],
  'src/oauth/token/refresh-token.ts': ['src/domain/tenants.ts', 'src/model/tenant.ts'],
  'src/console/sign-in.ts': ['@fastify/cookie', 'src/oauth/revocation.ts', 'src/domain/tenants.ts'],
  'src/app.ts': ['fastify', 'src/api/tenants.ts', 'src/console/sign-in.ts', 'src/services.ts'],
  'src/main.ts': ['src/app.ts', 'src/config/config.ts'],
  'src/cli/main.ts': ['src/main.ts', 'src/cli/args.ts', 'src/storage/database.ts'],
  'src/cli/args.ts': [],
};

/** CLEAN with `extra` imports added (to existing files or to new ones). */
function withImports(extra: Record<string, string[]>): Map<string, string[]> {
  const graph = new Map(Object.entries(CLEAN).map(([file, imports]) => [file, [...imports]]));
  for (const [file, imports] of Object.entries(extra))
    graph.set(file, [...(graph.get(file) ?? []), ...imports]);
  return graph;
}

describe('checkLayers, on synthetic graphs (a test of the test)', () => {
  it('finds nothing wrong with a clean graph', () => {
    expect(checkLayers(withImports({}))).toEqual([]);
  });

  it.each([
    [
      'src/console/sign-in.ts',
      'src/storage/repositories/tenants.ts',
      'only domain/ calls storage/repositories',
    ],
    [
      'src/auth/authenticate.ts',
      'src/storage/repositories/tenants.ts',
      'only domain/ calls storage/repositories',
    ],
    ['src/api/tenants.ts', 'src/storage/schema.ts', 'only domain/ and storage/ import storage internals'],
    [
      'src/http/error-handler.ts',
      'src/storage/migrations/index.ts',
      'only domain/ and storage/ import storage',
    ],
    ['src/api/tenants.ts', 'src/storage/database.ts', 'api/ may not import storage/'],
    ['src/config/config.ts', 'src/model/tenant.ts', 'config/ may not import model/'],
    ['src/auth/authenticate.ts', 'src/console/sign-in.ts', 'auth/ may not import console/'],
    ['src/main.ts', 'src/console/sign-in.ts', 'main.ts may not import console/'],
    ['src/cli/main.ts', 'src/app.ts', 'cli/ may not import app.ts'],
    ['src/domain/tenants.ts', 'kysely', 'only storage/ imports kysely'],
    ['src/services.ts', 'ioredis', 'only storage/ imports ioredis'],
    ['src/auth/authenticate.ts', 'fastify', 'only route layers'],
    ['src/services.ts', '@fastify/cookie', 'only route layers'],
    ['src/domain/tenants.ts', 'src/domain/users.ts', 'no such source file'],
  ])('%s importing %s breaks "%s"', (file, target, rule) => {
    const violations = checkLayers(withImports({ [file]: [target] }));
    expect(violations).toHaveLength(1);
    expect(violations[0]).toContain(`${file} imports ${target}: `);
    expect(violations[0]).toContain(rule);
  });

  it.each(['src/jobs/purge.ts', 'src/index.ts', 'src/app.ts/odd.ts'])(
    'reports %s, in no known layer',
    (file) => {
      const violations = checkLayers(withImports({ [file]: ['src/domain/tenants.ts'] }));
      expect(violations).toEqual([expect.stringContaining(`${file} is in no known layer`)]);
    },
  );

  it('reports a cycle between top-level units, naming the import that closes it', () => {
    const violations = checkLayers(withImports({ 'src/storage/redis.ts': ['src/domain/tenants.ts'] }));
    expect(violations).toHaveLength(2);
    expect(violations[0]).toContain(
      'src/storage/redis.ts imports src/domain/tenants.ts: storage/ may not import domain/',
    );
    expect(violations[1]).toContain('import cycle between top-level units domain/, storage/');
    expect(violations[1]).toContain('src/storage/redis.ts imports src/domain/tenants.ts');
    expect(violations[1]).toContain('src/domain/tenants.ts imports src/storage/');
  });

  it('reports a cycle between files, even inside one folder', () => {
    const violations = checkLayers(
      withImports({ 'src/oauth/token/refresh-token.ts': ['src/oauth/revocation.ts'] }),
    );
    expect(violations).toEqual([
      'import cycle between files src/oauth/revocation.ts -> src/oauth/token/refresh-token.ts -> src/oauth/revocation.ts: no import cycles, even inside one folder',
    ]);
  });
});

describe('buildImportGraph (a test of the test)', () => {
  it('sees every form of import, resolves files against src/ and names packages', () => {
    const root = mkdtempSync(join(tmpdir(), 'gatehouse-import-graph-'));
    const write = (path: string, lines: string[]) => {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), lines.join('\n'));
    };
    try {
      write('src/console/sign-in.ts', [
        "import Fastify from 'fastify';",
        "import type { FastifyRequest } from 'fastify';",
        "import { cookie } from '@fastify/cookie/plugin.js';",
        "export { codes } from '../errors/codes.js';",
        "export * from './csrf.ts';",
        "import '../http/side-effect.ts';",
        "const repo = await import('../storage/repositories/tenants.ts');",
        "let key: import('node:crypto').JsonWebKey | undefined;",
        "import { gone } from './gone.ts';",
        "import pkg from '../../package.json';",
        "const text = \"import x from 'in-a-string'\"; // import 'in-a-comment';",
      ]);
      write('src/console/sign-in.test.ts', ["import { it } from 'vitest';"]);
      for (const file of [
        'console/csrf.ts',
        'errors/codes.ts',
        'http/side-effect.ts',
        'storage/repositories/tenants.ts',
      ]) {
        write(`src/${file}`, []);
      }
      const graph = buildImportGraph(join(root, 'src'));
      expect([...graph.keys()]).toEqual([
        'src/console/csrf.ts',
        'src/console/sign-in.ts',
        'src/errors/codes.ts',
        'src/http/side-effect.ts',
        'src/storage/repositories/tenants.ts',
      ]);
      expect(graph.get('src/console/sign-in.ts')).toEqual([
        'fastify',
        '@fastify/cookie',
        'src/errors/codes.ts',
        'src/console/csrf.ts',
        'src/http/side-effect.ts',
        'src/storage/repositories/tenants.ts',
        'node:crypto',
        'src/console/gone.ts',
        './package.json',
      ]);
      expect(checkLayers(graph)).toEqual([
        'src/console/sign-in.ts imports src/storage/repositories/tenants.ts: only domain/ calls storage/repositories',
        'src/console/sign-in.ts imports src/console/gone.ts: no such source file under src/ (moved or deleted?)',
        'src/console/sign-in.ts imports ./package.json: resolves outside src/, which imports only its own files and packages',
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
