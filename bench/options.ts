import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** Repository root: everything the bench resolves (server entry, peer, results) is relative to it. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export type DbKind = 'sqlite' | 'postgres';

/** Settings of one bench run, printed in the report so that a figure can be reproduced. */
export interface BenchOptions {
  db: DbKind;
  quick: boolean;
  rounds: number;
  /** Seconds per measurement round. */
  duration: number;
  connections: number;
  pipelining: 1;
  /** Rows to run (1-11); row 7 needs PostgreSQL. */
  rows: Set<number>;
  /** Directory for `--cpu-prof` profiles of the server, or null. */
  cpuProfDir: string | null;
  /** PostgreSQL URL with rights to create and drop databases. */
  postgresAdminUrl: string;
  /** Where the results go: `bench/results/<name>.{md,json}`. */
  outName: string;
  peerDir: string;
  /** Distinct clients of row 5 (and clients the peer holds). */
  clients: number;
  /** Workspaces of the row-6 tenant. */
  workspaces: number;
  /** Rows of the row-7 table and lookups timed. */
  row7Keys: number;
  row7Lookups: number;
}

const USAGE = `usage: npm run bench -- [--db sqlite|postgres] [--quick] [--rounds N] [--duration S]
       [--connections N] [--rows 1,2,4] [--row7] [--cpu-prof DIR] [--out NAME]
rows: 1-6 throughput ratios, 7 key lookup (PostgreSQL), 8 memory, 9 logging, 10 sign-in storm, 11 workers`;

/** Every row but 7, which needs PostgreSQL: what a run without `--rows` measures. */
export const DEFAULT_ROWS = [1, 2, 3, 4, 5, 6, 8, 9, 10, 11];
const LAST_ROW = 11;

function int(value: string | undefined, fallback: number, name: string, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}\n${USAGE}`);
  return n;
}

function row(value: string): number {
  const n = int(value.trim(), 0, 'rows', 1);
  if (n > LAST_ROW) throw new Error(`--rows: there is no row ${n} (1-${LAST_ROW})\n${USAGE}`);
  return n;
}

/** Parses the command line; every figure is the median of at least 3 rounds, so fewer are refused. */
export function parseOptions(argv: string[], env: Record<string, string | undefined>): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      db: { type: 'string', default: 'sqlite' },
      quick: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      duration: { type: 'string' },
      connections: { type: 'string' },
      rows: { type: 'string' },
      row7: { type: 'boolean', default: false },
      'cpu-prof': { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  if (values.db !== 'sqlite' && values.db !== 'postgres') throw new Error(`--db must be sqlite or postgres`);
  const db: DbKind = values.db;
  const quick = values.quick;
  const rows = new Set(values.rows === undefined ? DEFAULT_ROWS : values.rows.split(',').map((r) => row(r)));
  if (values.row7 || (db === 'postgres' && values.rows === undefined)) rows.add(7);
  const defaultOut = quick ? 'quick' : db === 'sqlite' ? 'latest' : 'latest-postgres';
  return {
    db,
    quick,
    // Five rounds by default: the median of five shrugs off two disturbed rounds on a shared machine.
    rounds: int(values.rounds, quick ? 3 : 5, 'rounds', 3),
    duration: int(values.duration, quick ? 1 : 5, 'duration', 1),
    connections: int(values.connections, 50, 'connections', 1),
    pipelining: 1,
    rows,
    cpuProfDir: values['cpu-prof'] ? resolve(values['cpu-prof']) : null,
    postgresAdminUrl:
      env.GATEHOUSE_BENCH_POSTGRES_URL ??
      env.GATEHOUSE_TEST_POSTGRES_URL ??
      'postgres://postgres@127.0.0.1:5432/postgres',
    outName: values.out ?? defaultOut,
    peerDir: resolve(env.GATEHOUSE_PEER_DIR ?? join(REPO_ROOT, '..', 'shared', 'peers', 'oidc-provider')),
    clients: quick ? 1000 : 10_000,
    workspaces: 1000,
    row7Keys: quick ? 100_000 : 1_000_000,
    row7Lookups: 2000,
  };
}

/** The machine a run happened on, for the report header. */
export function machine() {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}
