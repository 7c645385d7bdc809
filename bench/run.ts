/**
 * `npm run bench`: Gatehouse's authentication cost, measured side by side with its baselines and
 * the reference peer in one run on one machine. See docs/performance.md for the method.
 */
import { loadavg } from 'node:os';
import { createBenchDatabase } from './database.ts';
import { runLoad, type Sample } from './load.ts';
import { readServerMemory, type ServerMemory } from './memory.ts';
import { DEFAULT_ROWS, machine, parseOptions } from './options.ts';
import { installPeer, type RunningPeer, startPeer } from './peer.ts';
import { peakRssMb, processTree, rssMb } from './process.ts';
import { buildRows, type Samples } from './report.ts';
import { type Report, renderMarkdown, updateDocs, writeReport } from './report-writer.ts';
import { type Row7Result, runRow7 } from './row7.ts';
import {
  LABELS,
  type LoadId,
  type MeasurementId,
  type ScenarioContext,
  type ServerName,
  STORM_SIZE,
  serverOf,
  targetOf,
  WORKERS,
} from './scenarios.ts';
import { seed } from './seed.ts';
import { type RunningServer, startGatehouse } from './server.ts';
import { describeStormRound, runStorm, type StormResult, seedStormUsers } from './storm.ts';
import { bearerAccepted, fetchToken, mintTokens } from './tokens.ts';

const options = parseOptions(process.argv.slice(2), process.env);
const log = (line: string) => process.stdout.write(`${line}\n`);
const settings = {
  connections: options.connections,
  pipelining: options.pipelining,
  duration: options.duration,
};
const wants = (...rows: number[]) => rows.some((r) => options.rows.has(r));
const reason = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * The loads of each phase, interleaved round by round within it: phase 1 is rows 1-5 and 9 (peak RSS
 * and heap read after it), phase 2 row 6, phase 3 row 11. Row 9's warn-level server is measured right
 * after row 1's `/me`, its pair.
 */
function phases(tokens: boolean, peer: boolean, warn: boolean): [LoadId[], LoadId[], LoadId[]] {
  const one: LoadId[] = [];
  const add = (...ids: LoadId[]) => {
    for (const id of ids) if (!one.includes(id)) one.push(id);
  };
  if (wants(1)) add('healthz', 'meApiKey');
  if (warn && wants(9)) add('meApiKey', 'meApiKeyWarn');
  if (tokens && wants(2)) add('meApiKey', 'meBearer');
  if (tokens && wants(3)) add('meApiKey', 'meBearerCold');
  if (tokens && peer && wants(4)) add('token1', 'peer1');
  if (tokens && wants(5)) add('token1', 'tokenMany', ...(peer ? (['peer1', 'peerMany'] as const) : []));
  return [
    one,
    wants(6) ? ['meApiKeyAgain', 'workspaces'] : [],
    wants(11) ? ['meApiKeyOne', 'meApiKeyWorkers'] : [],
  ];
}

function describe(id: MeasurementId, s: Sample): string {
  const logged = s.logLinesPerRequest == null ? '' : `  log ${s.logLinesPerRequest.toFixed(2)} lines/req`;
  const primary =
    s.serverPrimaryCpu != null && s.serverPrimaryCpu !== s.serverCpu
      ? ` (first process ${s.serverPrimaryCpu.toFixed(2)})`
      : '';
  const cpu = `cpu server ${s.serverCpu?.toFixed(2) ?? '-'}${primary} bench ${s.clientCpu.toFixed(2)} peak RSS ${s.serverPeakRssMb?.toFixed(0) ?? '-'} MB`;
  return `${LABELS[id].padEnd(48)} ${Math.round(s.rps).toString().padStart(7)} req/s  p50 ${s.p50.toFixed(2)} ms  p99 ${s.p99.toFixed(2)} ms  errors ${s.errors}  ${cpu}${logged}`;
}

async function main(): Promise<void> {
  const started = Date.now();
  const loadStart = loadavg()[0] ?? 0;
  // Row 7 first, while nothing else of the bench runs: it times single lookups, the most sensitive figure.
  let row7: Row7Result | null = null;
  let row7Skip: string | null = null;
  if (options.rows.has(7)) {
    log(`Row 7: loading ${options.row7Keys.toLocaleString('en')} keys into PostgreSQL...`);
    try {
      row7 = await runRow7(options.postgresAdminUrl, options.row7Keys, options.row7Lookups);
    } catch (error) {
      row7Skip = `failed: ${reason(error)}`;
      log(`Row 7 ${row7Skip}`);
    }
  }
  const samples: Samples = {};
  let peerSkip: string | null = null;
  let tokenSkip: string | null = null;
  let warnSkip: string | null = null;
  let workersSkip: string | null = null;
  let stormSkip: string | null = null;
  let peakRss: number | null = null;
  let idleRss: number | null = null;
  let steadyMemory: ServerMemory | string | null = null;
  let workersProcesses: number | null = null;
  let storm: StormResult | null = null;
  let coldPerRound: number | null = null;
  let peer: RunningPeer | null = null;
  const needsPeer = wants(4, 5);
  let peerInstall: string | null = null;
  if (needsPeer) {
    try {
      peerInstall = installPeer(options.peerDir);
    } catch (error) {
      peerSkip = `reference peer unavailable: ${reason(error)}`;
    }
  }
  const wantsAny = wants(1, 2, 3, 4, 5, 6, 8, 9, 10, 11);
  const database = wantsAny ? await createBenchDatabase(options.db, options.postgresAdminUrl) : null;
  const cleanup: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const task of cleanup.reverse()) await task().catch(() => {});
    cleanup.length = 0;
  };
  /** Stops one process now rather than at the end, and takes it off the cleanup list. */
  const stopNow = async (task: () => Promise<void>) => {
    const i = cleanup.indexOf(task);
    if (i >= 0) cleanup.splice(i, 1);
    await task().catch(() => {});
  };
  process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
  try {
    if (database) {
      cleanup.push(() => database.drop());
      log(`Seeding ${options.db} (${options.clients} clients, ${options.workspaces} workspaces)...`);
      const seeded = await seed(database.url, {
        clients: wants(5) ? options.clients : 1,
        workspaces: options.workspaces,
      });
      if (wants(10)) await seedStormUsers(database.url, STORM_SIZE);
      const server = await startGatehouse(database.url, { cpuProfDir: options.cpuProfDir });
      cleanup.push(() => server.stop());
      idleRss = rssMb(server.child.pid);
      const servers: Partial<Record<ServerName, RunningServer>> = { main: server };
      const origins: ScenarioContext['origins'] = { main: server.origin };
      const pids: Partial<Record<ServerName, number>> = { main: server.child.pid };
      let stopWarn: (() => Promise<void>) | null = null;
      if (wants(9)) {
        // Row 9's other side: the same server but for the log level, on the same database, beside it.
        try {
          const warn = await startGatehouse(database.url, { env: { GATEHOUSE_LOG_LEVEL: 'warn' } });
          stopWarn = () => warn.stop();
          cleanup.push(stopWarn);
          servers.warn = warn;
          origins.warn = warn.origin;
          pids.warn = warn.child.pid;
        } catch (error) {
          warnSkip = `the server at warn failed to start: ${reason(error)}`;
        }
      }
      let stopPeer: (() => Promise<void>) | null = null;
      if (peerInstall) {
        peer = await startPeer(peerInstall, options.clients).catch((error: unknown) => {
          peerSkip = `reference peer failed to start: ${reason(error)}`;
          return null;
        });
        if (peer) {
          const running = peer;
          stopPeer = () => running.child.stop();
          cleanup.push(stopPeer);
          origins.peer = peer.origin;
          pids.peer = peer.child.pid;
        }
      }
      const probe = await fetchToken(server.origin, seeded.main);
      let bearer: string | null = null;
      if ('error' in probe) tokenSkip = `token endpoint unavailable (${probe.error})`;
      else if (!(await bearerAccepted(server.origin, probe.token)))
        tokenSkip = 'GET /me refuses the bearer token';
      else bearer = probe.token;
      if (tokenSkip) log(`Rows 2-5 and 10 skipped: ${tokenSkip}`);
      const ctx: ScenarioContext = {
        origins,
        seeded,
        bearer,
        coldTokens: [],
        peerClients: options.clients,
      };
      const [phase1, phase2, phase3] = phases(tokenSkip === null, peer !== null, servers.warn !== undefined);

      /** One timed run of a load, with the CPU, memory and log lines of the server it ran against. */
      const measure = async (id: LoadId, target = targetOf(id, ctx)): Promise<Sample> => {
        const name = serverOf(id);
        const pid = pids[name] ?? 0;
        const gatehouse = servers[name];
        gatehouse?.clearLog();
        const sample = await runLoad(target, { ...settings, serverPid: pid });
        sample.serverPeakRssMb = peakRssMb(pid);
        sample.logLinesPerRequest =
          gatehouse && sample.requests ? (await gatehouse.logLines()) / sample.requests : null;
        return sample;
      };

      if (phase1.includes('meBearerCold')) {
        // Calibrate: how many fresh tokens does one round consume? Then mint them all before timing.
        const calibration = await mintTokens(server.origin, seeded.main, 3000, options.connections);
        const probeRun = await runLoad(
          { ...targetOf('meBearerCold', { ...ctx, coldTokens: calibration }), amount: calibration.length },
          settings,
        );
        coldPerRound = Math.max(
          1000,
          Math.min(options.quick ? 5000 : 80_000, Math.ceil(probeRun.rps * options.duration)),
        );
        log(`Minting ${coldPerRound * options.rounds} tokens for row 3 (${coldPerRound} per round)...`);
        ctx.coldTokens = await mintTokens(
          server.origin,
          seeded.main,
          coldPerRound * options.rounds,
          options.connections,
        );
        server.clearLog();
      }
      let stopWorkers: (() => Promise<void>) | null = null;
      const phaseList = [
        [1, phase1],
        [2, phase2],
        [3, phase3],
      ] as const;
      for (const [phase, ids] of phaseList) {
        if (!ids.length) continue;
        if (phase === 3) {
          try {
            const workers = await startGatehouse(database.url, {
              env: { GATEHOUSE_WORKERS: String(WORKERS) },
            });
            stopWorkers = () => workers.stop();
            cleanup.push(stopWorkers);
            servers.workers = workers;
            origins.workers = workers.origin;
            pids.workers = workers.child.pid;
          } catch (error) {
            workersSkip = `the server with GATEHOUSE_WORKERS=${WORKERS} failed to start: ${reason(error)}`;
            log(`Row 11 skipped: ${workersSkip}`);
            continue;
          }
        }
        // One full cycle through the clients of row 5, untimed: a round of all the other measurements
        // lasts about as long as a cached key is trusted (60 s), so each round of row 5 warms its own.
        const warmClients = (id: LoadId) =>
          runLoad({ ...targetOf(id, ctx), amount: options.clients }, { ...settings, duration: 1 });
        const manyClients = (id: LoadId) => id === 'tokenMany' || id === 'peerMany';
        log(`Phase ${phase}: warm-up...`);
        for (const id of ids) {
          if (id === 'meBearerCold') continue;
          if (manyClients(id)) await warmClients(id);
          else await runLoad(targetOf(id, ctx), { ...settings, duration: 1 });
        }
        if (phase === 3 && pids.workers) workersProcesses = processTree(pids.workers).length;
        for (let round = 0; round < options.rounds; round++) {
          log(`Phase ${phase}, round ${round + 1}/${options.rounds}`);
          for (const id of ids) {
            const target = targetOf(id, ctx);
            if (id === 'meBearerCold' && coldPerRound) {
              const slice = ctx.coldTokens.slice(round * coldPerRound, (round + 1) * coldPerRound);
              Object.assign(target, targetOf(id, { ...ctx, coldTokens: slice }), { amount: slice.length });
            }
            if (round > 0 && manyClients(id)) await warmClients(id);
            const sample = await measure(id, target);
            const list = samples[id] ?? [];
            list.push(sample);
            samples[id] = list;
            log(`  ${describe(id, sample)}`);
          }
        }
        if (phase === 1) {
          peakRss = peakRssMb(server.child.pid);
          // Row 8's heap, and the log lines row 9's server dropped, if it counts them.
          steadyMemory = await readServerMemory(server.origin).catch((error: unknown) => reason(error));
          // Rows 4, 5 and 9 are done: their other servers would only take memory from what follows.
          if (stopWarn) await stopNow(stopWarn);
          if (stopPeer) await stopNow(stopPeer);
        }
        if (phase === 3 && stopWorkers) await stopNow(stopWorkers);
      }
      if (wants(10)) {
        if (tokenSkip) stormSkip = tokenSkip;
        else {
          // Last: a storm that went wrong (timeouts, a stuck queue) cannot spoil the other rows.
          log(`Row 10: token endpoint calm and during a storm of ${STORM_SIZE} sign-ins...`);
          server.clearLog();
          try {
            storm = await runStorm({
              origin: server.origin,
              serverPid: server.child.pid,
              client: seeded.main,
              size: STORM_SIZE,
              rounds: options.rounds,
              duration: options.duration,
              onRound: (...round) => {
                log(`  ${describeStormRound(...round)}`);
                server.clearLog();
              },
            });
            samples.tokenCalm = storm.calm;
            samples.tokenStorm = storm.storm;
          } catch (error) {
            stormSkip = `failed: ${reason(error)}`;
            log(`Row 10 ${stormSkip}`);
          }
        }
      }
      await stopAll();
      if (options.cpuProfDir) log(`CPU profile of the server written to ${options.cpuProfDir}`);
    }
  } finally {
    await stopAll();
  }

  const rows = buildRows({
    samples,
    peerVersion: peer?.version ?? null,
    clients: options.clients,
    tokenSkip,
    peerSkip,
    peakRssMb: wants(8) ? peakRss : null,
    idleRssMb: idleRss,
    steadyMemory,
    row7,
    row7Skip,
    warnSkip,
    workersSkip,
    workersProcesses,
    cores: machine().cores,
    storm,
    stormSkip,
  });
  const report: Report = {
    generatedAt: new Date().toISOString(),
    machine: machine(),
    settings: {
      db: options.db,
      rounds: options.rounds,
      durationSeconds: options.duration,
      connections: options.connections,
      pipelining: options.pipelining,
      clients: options.clients,
      workspaces: options.workspaces,
      coldTokensPerRound: coldPerRound,
      peer: peer ? `oidc-provider ${peer.version}` : null,
      quick: options.quick,
      stormSize: STORM_SIZE,
      workers: WORKERS,
    },
    memory: {
      idleRssMb: idleRss,
      peakRssMb: peakRss,
      steady: typeof steadyMemory === 'string' ? null : steadyMemory,
    },
    loadAverage: { start: loadStart, end: loadavg()[0] ?? 0 },
    rows,
    samples,
    row7,
  };
  const files = writeReport(report, options);
  // Only full runs of every row reach the documentation; smoke and partial runs stay in bench/results.
  const complete = !options.quick && DEFAULT_ROWS.every((r) => options.rows.has(r));
  if (complete && updateDocs(report, options.outName))
    log(`Updated the ${options.outName} table in docs/performance.md.`);
  log(`\n${renderMarkdown(report)}`);
  log(`Written ${files.md} and ${files.json} in ${((Date.now() - started) / 1000).toFixed(0)} s.`);
}

try {
  await main();
} catch (error) {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
}
