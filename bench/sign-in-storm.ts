/**
 * `npm run bench:storm`: token-endpoint latency while people sign in. Password hashing (scrypt) and
 * token signing may share threads; this measures `POST /connect/token` (one client, as in row 4) calm
 * and during a storm of concurrent sign-ins, round after round on the same server, and reports the
 * storm p99 beside the calm one. Runs `npm start`'s bundle on SQLite with the shipped defaults. The
 * same measurement is row 10 of `npm run bench` (bench/storm.ts).
 *
 *   node --import tsx bench/sign-in-storm.ts [--rounds 3] [--duration 8] [--storm 200]
 */
import { parseArgs } from 'node:util';
import { createBenchDatabase } from './database.ts';
import type { Sample } from './load.ts';
import { seed } from './seed.ts';
import { startGatehouse } from './server.ts';
import { median } from './stats.ts';
import {
  answeredP99,
  describeStormRound,
  runStorm,
  STORM_CONNECTIONS,
  seedStormUsers,
  stormP99Ratio,
} from './storm.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '8' },
    storm: { type: 'string', default: '200' },
  },
});
const rounds = Number(values.rounds);
const duration = Number(values.duration);
const stormSize = Number(values.storm);
const log = (line: string) => process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  const database = await createBenchDatabase('sqlite', '');
  try {
    const seeded = await seed(database.url, { clients: 1, workspaces: 1 });
    await seedStormUsers(database.url, stormSize);
    const server = await startGatehouse(database.url);
    try {
      const result = await runStorm({
        origin: server.origin,
        serverPid: server.child.pid,
        client: seeded.main,
        size: stormSize,
        rounds,
        duration,
        onRound: (...round) => {
          log(describeStormRound(...round));
          // The log only needs to hold one round.
          server.clearLog();
        },
      });
      const p99 = (samples: Sample[]) => median(samples.map(answeredP99));
      const rps = (samples: Sample[]) => median(samples.map((s) => s.rps));
      log(
        `\nPOST /connect/token, 1 client, ${STORM_CONNECTIONS} connections; storm of ${stormSize} concurrent sign-ins (medians of ${rounds} rounds)`,
      );
      log(`| | req/s | p99 |\n|---|---|---|`);
      log(`| calm | ${Math.round(rps(result.calm))} | ${p99(result.calm).toFixed(1)} ms |`);
      log(`| during the storm | ${Math.round(rps(result.storm))} | ${p99(result.storm).toFixed(1)} ms |`);
      log(
        `storm p99 / calm p99 (median of the per-round ratios): ${stormP99Ratio(result).toFixed(2)}x (target <= 3x)`,
      );
    } finally {
      await server.stop();
    }
  } finally {
    await database.drop();
  }
}

try {
  await main();
} catch (error) {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
}
