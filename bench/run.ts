/**
 * `npm run bench`: Gatehouse's authentication cost, measured side by side with its baselines and
 * the reference peer in one run on one machine. See docs/performance.md for the method.
 */
import { loadavg } from 'node:os';
import { createBenchDatabase } from './database.ts';
import { runLoad, type Sample } from './load.ts';
import { machine, parseOptions } from './options.ts';
import { installPeer, type RunningPeer, startPeer } from './peer.ts';
import { peakRssMb, rssMb } from './process.ts';
import { buildRows, type Samples } from './report.ts';
import { type Report, renderMarkdown, updateDocs, writeReport } from './report-writer.ts';
import { type Row7Result, runRow7 } from './row7.ts';
import { LABELS, type MeasurementId, type ScenarioContext, targetOf } from './scenarios.ts';
import { seed } from './seed.ts';
import { startGatehouse } from './server.ts';
import { bearerAccepted, fetchToken, mintTokens } from './tokens.ts';

const options = parseOptions(process.argv.slice(2), process.env);
const log = (line: string) => process.stdout.write(`${line}\n`);
const settings = {
  connections: options.connections,
  pipelining: options.pipelining,
  duration: options.duration,
};
const wants = (...rows: number[]) => rows.some((r) => options.rows.has(r));

/** Phase 1 (rows 1-5, RSS sampled after it) and phase 2 (row 6), each interleaved round by round. */
function phases(tokens: boolean, peer: boolean): [MeasurementId[], MeasurementId[]] {
  const one: MeasurementId[] = [];
  const add = (...ids: MeasurementId[]) => {
    for (const id of ids) if (!one.includes(id)) one.push(id);
  };
  if (wants(1)) add('healthz', 'meApiKey');
  if (tokens && wants(2)) add('meApiKey', 'meBearer');
  if (tokens && wants(3)) add('meApiKey', 'meBearerCold');
  if (tokens && peer && wants(4)) add('token1', 'peer1');
  if (tokens && wants(5)) add('token1', 'tokenMany', ...(peer ? (['peer1', 'peerMany'] as const) : []));
  return [one, wants(6) ? ['meApiKeyAgain', 'workspaces'] : []];
}

function describe(id: MeasurementId, s: Sample): string {
  const cpu = `cpu server ${s.serverCpu?.toFixed(2) ?? '-'} bench ${s.clientCpu.toFixed(2)} peak RSS ${s.serverPeakRssMb?.toFixed(0) ?? '-'} MB`;
  return `${LABELS[id].padEnd(48)} ${Math.round(s.rps).toString().padStart(7)} req/s  p50 ${s.p50.toFixed(2)} ms  p99 ${s.p99.toFixed(2)} ms  errors ${s.errors}  ${cpu}`;
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
      row7Skip = `failed: ${error instanceof Error ? error.message : String(error)}`;
      log(`Row 7 ${row7Skip}`);
    }
  }
  const samples: Samples = {};
  let peerSkip: string | null = null;
  let tokenSkip: string | null = null;
  let peakRss: number | null = null;
  let idleRss: number | null = null;
  let coldPerRound: number | null = null;
  let peer: RunningPeer | null = null;
  const needsPeer = wants(4, 5);
  let peerInstall: string | null = null;
  if (needsPeer) {
    try {
      peerInstall = installPeer(options.peerDir);
    } catch (error) {
      peerSkip = `reference peer unavailable: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  const wantsAny = wants(1, 2, 3, 4, 5, 6, 8);
  const database = wantsAny ? await createBenchDatabase(options.db, options.postgresAdminUrl) : null;
  const cleanup: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const task of cleanup.reverse()) await task().catch(() => {});
    cleanup.length = 0;
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
      const server = await startGatehouse(database.url, options.cpuProfDir);
      cleanup.push(() => server.child.stop());
      idleRss = rssMb(server.child.pid);
      if (peerInstall) {
        peer = await startPeer(peerInstall, options.clients).catch((error: unknown) => {
          peerSkip = `reference peer failed to start: ${error instanceof Error ? error.message : String(error)}`;
          return null;
        });
        if (peer) cleanup.push(() => (peer as RunningPeer).child.stop());
      }
      const probe = await fetchToken(server.origin, seeded.main);
      let bearer: string | null = null;
      if ('error' in probe) tokenSkip = `token endpoint unavailable (${probe.error})`;
      else if (!(await bearerAccepted(server.origin, probe.token)))
        tokenSkip = 'GET /me refuses the bearer token';
      else bearer = probe.token;
      if (tokenSkip) log(`Rows 2-5 skipped: ${tokenSkip}`);
      const ctx: ScenarioContext = {
        origin: server.origin,
        peerOrigin: peer?.origin ?? null,
        seeded,
        bearer,
        coldTokens: [],
        peerClients: options.clients,
      };
      const [phase1, phase2] = phases(tokenSkip === null, peer !== null);

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
      }
      for (const [phase, ids] of [
        [1, phase1],
        [2, phase2],
      ] as const) {
        if (!ids.length) continue;
        log(`Phase ${phase}: warm-up...`);
        for (const id of ids) {
          if (id === 'meBearerCold') continue;
          const many = id === 'tokenMany' || id === 'peerMany';
          // One full cycle through the clients, so that every round measures warm caches.
          await runLoad(
            { ...targetOf(id, ctx), ...(many ? { amount: options.clients } : {}) },
            { ...settings, duration: 1 },
          );
        }
        for (let round = 0; round < options.rounds; round++) {
          log(`Phase ${phase}, round ${round + 1}/${options.rounds}`);
          for (const id of ids) {
            const target = targetOf(id, ctx);
            if (id === 'meBearerCold' && coldPerRound) {
              const slice = ctx.coldTokens.slice(round * coldPerRound, (round + 1) * coldPerRound);
              Object.assign(target, targetOf(id, { ...ctx, coldTokens: slice }), { amount: slice.length });
            }
            const sample = await runLoad(target, {
              ...settings,
              ...(id.startsWith('peer')
                ? { serverPid: peer?.child.pid ?? 0 }
                : { serverPid: server.child.pid }),
            });
            sample.serverPeakRssMb = peakRssMb(server.child.pid);
            const list = samples[id] ?? [];
            list.push(sample);
            samples[id] = list;
            log(`  ${describe(id, sample)}`);
          }
        }
        if (phase === 1) peakRss = peakRssMb(server.child.pid);
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
    row7,
    row7Skip,
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
    },
    loadAverage: { start: loadStart, end: loadavg()[0] ?? 0 },
    rows,
    samples,
    row7,
  };
  const files = writeReport(report, options);
  // Only full runs of every row reach the documentation; smoke and partial runs stay in bench/results.
  const complete = !options.quick && [1, 2, 3, 4, 5, 6, 8].every((r) => options.rows.has(r));
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
