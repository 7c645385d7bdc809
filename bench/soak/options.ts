import { basename, dirname, extname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { DbKind } from '../options.ts';
import { REPO_ROOT } from '../options.ts';

/** Settings of one soak run, printed in its report so that a result can be reproduced. */
export interface SoakOptions {
  db: DbKind;
  /** Length of the mixed workload, ms. */
  durationMs: number;
  /** One row of the per-interval table (and one point of the latency chart) per interval, ms. */
  intervalMs: number;
  /** How often the server's memory and event-loop delay are read, ms. */
  sampleMs: number;
  /** Upper bound on requests per second over all lanes (the lanes also bound concurrency). */
  rate: number;
  /** Concurrent lanes of X-API-Key calls; the other lanes scale with it. */
  lanes: number;
  /** The markdown document whose `<!-- soak:latest -->` block is replaced. */
  outFile: string;
  /** Where the charts go: a folder named after the document, beside it. */
  chartsDir: string;
  /**
   * Raw figures of the run (JSON), for whoever wants more than the report shows: beside the bench's in
   * bench/results (which Biome leaves alone), or in `chartsDir` for a document of one's own (`--out`).
   */
  jsonFile: string;
  quick: boolean;
  postgresAdminUrl: string;
}

const USAGE = `usage: npm run soak -- [--duration 5m|90s|N (minutes)] [--interval S] [--quick]
       [--db sqlite|postgres] [--rate N] [--lanes N] [--out docs/reliability.md]
--quick: 60 s, written to bench/results/quick.soak.md (not committed) unless --out is given`;

const MINUTE = 60_000;

/**
 * A duration: `90s`, `5m`, `1h`, or a bare number of minutes (a soak is counted in minutes; the
 * shortest accepted is 30 s, since fewer would give no trend at all).
 */
export function parseDuration(text: string, name: string): number {
  const match = /^(\d+(?:\.\d+)?)(s|m|h|min)?$/.exec(text.trim());
  if (!match) throw new Error(`--${name}: "${text}" is not a duration such as 90s, 5m or 1h\n${USAGE}`);
  const value = Number(match[1]);
  const unit = match[2] ?? 'm';
  const ms = value * (unit === 's' ? 1000 : unit === 'h' ? 60 * MINUTE : MINUTE);
  if (ms < 30_000) throw new Error(`--${name} must be at least 30 s\n${USAGE}`);
  return Math.round(ms);
}

function positive(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be an integer >= 1\n${USAGE}`);
  return n;
}

/**
 * Intervals of a minute for runs of 5 minutes or more (the "per minute"); shorter runs get
 * shorter intervals so that their charts still have at least 6 points.
 */
function defaultIntervalMs(durationMs: number): number {
  if (durationMs >= 5 * MINUTE) return MINUTE;
  return Math.max(5000, Math.floor(durationMs / 6 / 1000) * 1000);
}

/** Parses the command line of `npm run soak`. */
export function parseSoakOptions(argv: string[], env: Record<string, string | undefined>): SoakOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string' },
      interval: { type: 'string' },
      quick: { type: 'boolean', default: false },
      db: { type: 'string', default: 'sqlite' },
      rate: { type: 'string' },
      lanes: { type: 'string' },
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
  const durationMs =
    values.duration !== undefined
      ? parseDuration(values.duration, 'duration')
      : values.quick
        ? MINUTE
        : 5 * MINUTE;
  const intervalMs =
    values.interval !== undefined
      ? positive(values.interval, 60, 'interval') * 1000
      : defaultIntervalMs(durationMs);
  if (intervalMs > durationMs / 3)
    throw new Error(`--interval leaves fewer than 3 intervals in ${durationMs / 1000} s\n${USAGE}`);
  // A quick check never overwrites the committed document: it goes where `npm run bench -- --quick` goes.
  const fallback = values.quick
    ? join(REPO_ROOT, 'bench', 'results', 'quick.soak.md')
    : join(REPO_ROOT, 'docs', 'reliability.md');
  const outFile = resolve(values.out ?? fallback);
  const chartsDir = join(dirname(outFile), basename(outFile, extname(outFile)));
  return {
    db: values.db,
    durationMs,
    intervalMs,
    sampleMs: Math.min(5000, Math.max(1000, Math.floor(intervalMs / 6))),
    rate: positive(values.rate, 300, 'rate'),
    lanes: positive(values.lanes, 4, 'lanes'),
    outFile,
    chartsDir,
    jsonFile:
      values.out !== undefined
        ? join(chartsDir, 'results.json')
        : join(
            REPO_ROOT,
            'bench',
            'results',
            `${values.quick ? 'quick.' : ''}soak${values.db === 'postgres' ? '-postgres' : ''}.json`,
          ),
    quick: values.quick,
    postgresAdminUrl:
      env.GATEHOUSE_BENCH_POSTGRES_URL ??
      env.GATEHOUSE_TEST_POSTGRES_URL ??
      'postgres://postgres@127.0.0.1:5432/postgres',
  };
}
