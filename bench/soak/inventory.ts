import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../options.ts';

const TESTS = join(REPO_ROOT, 'packages', 'server', 'test');

/** How many inputs the fuzz test tries, as configured in its file (not a result of this run). */
export interface FuzzInventory {
  file: string;
  /** Generated requests sent through `inject`, per dialect. */
  injected: number;
  /** Generated requests sent over a raw socket, per dialect. */
  raw: number;
  /** Fixed request lines the HTTP parser refuses, per dialect. */
  fixed: number;
}

/** Reads the fuzz test's defaults (`GATEHOUSE_FUZZ_RUNS` unset); null when the file is not there. */
export function fuzzInventory(): FuzzInventory | null {
  const file = join(TESTS, 'security', 'fuzz.test.ts');
  if (!existsSync(file)) return null;
  const text = readFileSync(file, 'utf8');
  const runs = Number(/GATEHOUSE_FUZZ_RUNS \?\? (\d+)/.exec(text)?.[1] ?? Number.NaN);
  const divisor = Number(/Math\.ceil\(RUNS \/ (\d+)\)/.exec(text)?.[1] ?? Number.NaN);
  const table =
    /it\.each\(\[([\s\S]*?)\]\)\(\s*'answers %s, which the HTTP parser refuses/.exec(text)?.[1] ?? '';
  const fixed = (table.match(/^\s*\[/gm) ?? []).length;
  if (!Number.isFinite(runs)) return null;
  return {
    file: 'packages/server/test/security/fuzz.test.ts',
    injected: runs,
    raw: Number.isFinite(divisor) ? Math.ceil(runs / divisor) : 0,
    fixed,
  };
}

/** A fault-injection test file of the suite, as found on disk. */
export interface FaultTest {
  file: string;
  /** What it does to the server, and what it requires to survive. */
  fault: string;
  /** How it runs. */
  run: string;
  /** `it` blocks in the file (a table of cases counts once). */
  tests: number;
}

/** What the known fault tests inject; others found in the fault folders are described by their own title. */
const KNOWN: Record<string, string> = {
  'outage/postgres-outage.test.ts':
    'PostgreSQL stopped and started under two running instances: requests that need it answer 503 within 2 s (never 401 or 500), cached keys and tokens keep working, every write acknowledged before is there after, revocations reach the other instance again',
  'outage/redis-outage.test.ts':
    'Redis stopped and started under two running instances: rate limits still apply (per instance), /readyz says so, budgets are shared again once it is back',
  'ops/database-outage.test.ts':
    'the connection to PostgreSQL cut by a TCP proxy: warm caches keep serving, 503 where the database is needed, batched writes catch up once it is back',
  'ops/redis-fallback.test.ts':
    'a private Redis stopped and started: every budget still enforced in memory while it is away, back to Redis by itself',
  'ops/shutdown.test.ts':
    'SIGTERM with a request in flight: it finishes with its answer and its usage is written; what outlives GATEHOUSE_SHUTDOWN_TIMEOUT is cut and said so',
  'reliability/sqlite-read-only.test.ts':
    'the SQLite file made read-only under a running server: reads keep answering, writes answer 503 within 2 s and nothing is written, and the same server writes again once the disk takes writes',
  'reliability/concurrency.test.ts':
    'one refresh token, one API-key rotation and one authorization code each used 100 times at once over real sockets: one wins, the others are refused, nothing is issued twice',
  'reliability/crash-safety.test.ts':
    'SIGKILL in the middle of writes (key creation, rotation, code exchange, refresh rotation), repeatedly: every write answered 2xx is there after the restart, nothing half-written, no code or refresh token used twice',
};

function countTests(text: string): number {
  // `it(`, `it.each(` (a table counts once), `it.skipIf(...)(`.
  return (text.match(/^\s*(?:it|test)(?:\.each|\.skipIf\([^)]*\))?\(/gm) ?? []).length;
}

function ownTitle(text: string): string {
  const m = /describe\w*(?:\.skipIf\([^)]*\))?\(\s*(['"`])([\s\S]*?)\1/.exec(text);
  return m?.[2] ?? 'fault test';
}

/** The fault tests present now: the outage folder, the reliability folder and the named ops tests. */
export function faultTests(): FaultTest[] {
  const found: FaultTest[] = [];
  const add = (relative: string, run: string) => {
    const file = join(TESTS, relative);
    if (!existsSync(file)) return;
    const text = readFileSync(file, 'utf8');
    found.push({
      file: `packages/server/test/${relative}`,
      fault: KNOWN[relative] ?? ownTitle(text),
      run,
      tests: countTests(text),
    });
  };
  const list = (folder: string) =>
    existsSync(join(TESTS, folder))
      ? readdirSync(join(TESTS, folder))
          .filter((f) => f.endsWith('.test.ts'))
          .sort()
      : [];
  for (const file of list('outage'))
    add(`outage/${file}`, '`npm run test:outage` (in CI after the main suite)');
  for (const file of ['database-outage.test.ts', 'redis-fallback.test.ts', 'shutdown.test.ts'])
    add(`ops/${file}`, '`npm test`');
  for (const file of list('reliability')) add(`reliability/${file}`, '`npm test`');
  return found;
}
