/**
 * `npm run soak`: one server, minutes of mixed traffic (X-API-Key and Bearer calls, client-credentials
 * tokens, the authorization code flow with sign-in and consent, refresh rotation, revocations, admin
 * changes, and credentials that must be refused), then checks that nothing acknowledged was lost.
 * Reports answers by kind, latency per interval, the server's memory and event-loop delay, and writes
 * the result into docs/reliability.md with its charts. See that document for the method.
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { type BenchDatabase, createBenchDatabase } from './database.ts';
import { machine } from './options.ts';
import type { RunningServer } from './server.ts';
import { startGatehouse } from './server.ts';
import { adminLane } from './soak/admin.ts';
import { Http, Pacer, RefusalBudget } from './soak/http.ts';
import { faultTests, fuzzInventory } from './soak/inventory.ts';
import { Ledger } from './soak/ledger.ts';
import { parseSoakOptions } from './soak/options.ts';
import { Recorder } from './soak/recorder.ts';
import { groupRows, kindRows, type SoakReport, writeReport } from './soak/report.ts';
import { Sampler } from './soak/sampler.ts';
import { seedSoak } from './soak/seed.ts';
import { issuedCheck, servedCheck } from './soak/served.ts';
import { LogScanner } from './soak/server-log.ts';
import { trend } from './soak/trend.ts';
import { verify } from './soak/verify.ts';
import {
  apiKeyLane,
  bearerLane,
  codeFlowLane,
  REFUSED_EVERY_MS,
  refusedLane,
  tokenLane,
  type Workload,
} from './soak/workload.ts';

const options = parseSoakOptions(process.argv.slice(2), process.env);
const log = (line: string) => process.stdout.write(`${line}\n`);
/**
 * Revoked and rotated-out credentials tried again, at most this many a minute: with the refused lane's
 * 15, under the server's default failure budget of 60 a minute per address.
 */
const PROBES_PER_MINUTE = 25;

let database: BenchDatabase | null = null;
let server: RunningServer | null = null;

/** Stops the server and removes the database, once, whatever happened (error, Ctrl-C). */
async function cleanUp(): Promise<void> {
  const running = server;
  const db = database;
  server = null;
  database = null;
  if (running) await running.stop().catch(() => {});
  if (db) await db.drop().catch(() => {});
}

for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    log(`\n${signal}: stopping the server and removing the database...`);
    void cleanUp().then(() => process.exit(130));
  });

async function main(): Promise<number> {
  const loadStart = loadavg()[0] ?? 0;
  database = await createBenchDatabase(options.db, options.postgresAdminUrl);
  log(`Seeding ${options.db}...`);
  const seed = await seedSoak(database.url);
  // Only the soak reads /metrics: prom-client resets its event-loop histogram at every scrape, so any
  // other reader on the machine would cut the soak's windows short. Nothing else changes.
  const metricsToken = randomBytes(24).toString('base64url');
  server = await startGatehouse(database.url, { env: { GATEHOUSE_METRICS_TOKEN: metricsToken } });
  const serverLog = new LogScanner(server.logFile);
  const intervals = Math.ceil(options.durationMs / options.intervalMs);
  const recorder = new Recorder(options.intervalMs, intervals);
  const http = new Http(server.origin, recorder, new Pacer(options.rate));
  const ledger = new Ledger();
  const refusals = new RefusalBudget(PROBES_PER_MINUTE);
  const lanes = {
    'X-API-Key': options.lanes,
    Bearer: options.lanes,
    token: 1,
    'code flow': 1,
    admin: 1,
    refused: 1,
  };
  log(
    `Soak of ${options.durationMs / 1000} s on ${server.origin} (pid ${server.child.pid}): at most ${options.rate} req/s, ` +
      `intervals of ${options.intervalMs / 1000} s, lanes ${JSON.stringify(lanes)}`,
  );

  const startedAt = Date.now();
  const sampler = new Sampler(http, server.child.pid, startedAt, metricsToken);
  const baseline = await sampler.start(options.sampleMs);
  recorder.start(performance.now());
  const w: Workload = { http, seed, ledger, refusals, until: startedAt + options.durationMs };
  const progress = setInterval(() => {
    serverLog.scan();
    const index = Math.round((Date.now() - startedAt) / options.intervalMs) - 1;
    const i = recorder.intervalTallies()[index];
    const s = sampler.samples.at(-1);
    if (!i) return;
    log(
      `  ${((index + 1) * options.intervalMs) / 1000} s: ${i.requests} requests, p50 ${i.all.p50.toFixed(2)} ms, p99 ${i.all.p99.toFixed(1)} ms, ` +
        `401 ${i.outcomes.refused}, 429 ${i.outcomes.limited}, errors ${i.outcomes.error}; RSS ${s?.rssMb?.toFixed(1)} MB, ` +
        `heap ${s?.heapUsedMb?.toFixed(1)} MB, loop p99 ${s?.loopP99Ms?.toFixed(1)} ms, server CPU ${s?.serverCpu?.toFixed(2)}, soak CPU ${s?.benchCpu.toFixed(2)}`,
    );
  }, options.intervalMs);
  try {
    await Promise.all([
      ...Array.from({ length: options.lanes }, () => apiKeyLane(w)),
      ...Array.from({ length: options.lanes }, () => bearerLane(w)),
      tokenLane(w),
      codeFlowLane(w),
      adminLane(w),
      refusedLane(w),
    ]);
  } finally {
    clearInterval(progress);
    await sampler.stop();
  }
  log(
    `Workload done in ${((Date.now() - startedAt) / 1000).toFixed(1)} s; checking that nothing was lost...`,
  );
  const checks = await verify(http, database.url, seed, ledger);
  // The server counts an answer once it is sent: let the last ones land before the final reading.
  await sleep(500);
  const final = await sampler.scrape();
  checks.unshift(servedCheck(baseline, final, recorder), issuedCheck(baseline, final, ledger));
  // Error lines are written at once; info lines in batches, which this leaves time for.
  await sleep(1000);
  serverLog.scan();
  checks.push(serverLog.check());
  await cleanUp();

  const errors = [...recorder.errors.values()];
  const warm = options.intervalMs / 1000;
  const after = sampler.samples.filter((s) => s.t > warm);
  /** Minutes after the warm-up interval. */
  const window = (options.durationMs - options.intervalMs) / 60_000;
  const report: SoakReport = {
    generatedAt: new Date().toISOString(),
    machine: machine(),
    settings: {
      db: options.db,
      durationSeconds: options.durationMs / 1000,
      intervalSeconds: options.intervalMs / 1000,
      sampleSeconds: options.sampleMs / 1000,
      rate: options.rate,
      lanes,
      refusedPerMinute: 60_000 / REFUSED_EVERY_MS,
      probesPerMinute: PROBES_PER_MINUTE,
    },
    loadAverage: { start: loadStart, end: loadavg()[0] ?? 0 },
    kinds: kindRows(recorder.totals, errors),
    groups: groupRows(recorder.totals, recorder.intervalTallies()),
    intervals: recorder.intervalTallies(),
    samples: sampler.samples,
    trends: {
      rss: trend(
        after.map((s) => ({ x: s.t / 60, y: s.rssMb })),
        window,
      ),
      heap: trend(
        after.map((s) => ({ x: s.t / 60, y: s.heapUsedMb })),
        window,
      ),
    },
    checks,
    errors,
    refusalsSkipped: refusals.skipped,
    fuzz: fuzzInventory(),
    faults: faultTests(),
  };
  writeReport(report, options.outFile, options.chartsDir, options.jsonFile);
  for (const check of checks) log(`${check.ok ? 'held ' : 'FAILED'} ${check.name}: ${check.detail}`);
  for (const error of errors) log(`ERROR ${error.kind}: ${error.what} x${error.count} ${error.example}`);
  const verdict = (flat: boolean | null) =>
    flat === null ? 'too short to judge' : flat ? 'flat' : 'growing';
  log(
    `RSS ${report.trends.rss.slope.toFixed(2)} MB/min (${verdict(report.trends.rss.flat)}), ` +
      `heap ${report.trends.heap.slope.toFixed(2)} MB/min (${verdict(report.trends.heap.flat)})`,
  );
  log(`Written ${options.outFile} and ${options.chartsDir}/`);
  return errors.length === 0 && checks.every((c) => c.ok) ? 0 : 1;
}

try {
  process.exitCode = await main();
} catch (error) {
  process.stderr.write(
    `soak failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
} finally {
  await cleanUp();
}
