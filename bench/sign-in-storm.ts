/**
 * `npm run bench:storm`: token-endpoint latency while people sign in. Password hashing (scrypt) and
 * token signing share libuv's thread pool; this measures `POST /connect/token` (one client, as in
 * row 4) calm and during a storm of concurrent sign-ins, round after round on the same server, and
 * reports the storm p99 beside the calm one. Runs `npm start`'s bundle on SQLite.
 *
 *   node --import tsx bench/sign-in-storm.ts [--rounds 3] [--duration 8] [--storm 200]
 */
import { parseArgs } from 'node:util';
import { hashPassword } from '../packages/server/src/domain/passwords.ts';
import { openStorage } from '../packages/server/src/storage/database.ts';
import { insertUser } from '../packages/server/src/storage/repositories/users.ts';
import { inTransaction } from '../packages/server/src/storage/transaction.ts';
import { createBenchDatabase } from './database.ts';
import { runLoad, type Sample } from './load.ts';
import { seed } from './seed.ts';
import { startGatehouse } from './server.ts';
import { median } from './stats.ts';
import { TOKEN_BODY, tokenHeaders } from './tokens.ts';

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
const PASSWORD = 'storm-password-not-secret';
const log = (line: string) => process.stdout.write(`${line}\n`);

/**
 * One sign-in as a browser does it: the page (CSRF cookie and token), then the form. Returns the status
 * and the Retry-After it was told, in seconds.
 */
async function signIn(origin: string, email: string): Promise<{ status: number; retryAfter: number }> {
  const page = await fetch(`${origin}/console/sign-in`);
  const cookie = (page.headers.getSetCookie()[0] ?? '').split(';')[0] ?? '';
  const token = /name="csrf_token" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
  const res = await fetch(`${origin}/console/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
    body: new URLSearchParams({ csrf_token: token, email, password: PASSWORD, return_to: '/console' }),
  });
  await res.arrayBuffer();
  return { status: res.status, retryAfter: Number(res.headers.get('retry-after') ?? 0) };
}

/**
 * `size` people signing in at once, again and again until `stop` resolves, each with the right
 * password of their own account (successes give their attempt back, so no sign-in budget ends the
 * storm early). Like a browser user, one told to retry later (503 or 429 with Retry-After) waits that
 * long: the storm is people, not a flood of retries.
 */
async function storm(origin: string, size: number, stop: Promise<void>): Promise<Record<number, number>> {
  const statuses: Record<number, number> = {};
  let running = true;
  void stop.then(() => {
    running = false;
  });
  await Promise.all(
    Array.from({ length: size }, async (_, i) => {
      while (running) {
        const { status, retryAfter } = await signIn(origin, `storm-${i}@a.bench`).catch(() => ({
          status: 0,
          retryAfter: 1,
        }));
        statuses[status] = (statuses[status] ?? 0) + 1;
        if (retryAfter > 0) await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000));
      }
    }),
  );
  return statuses;
}

async function main(): Promise<void> {
  const database = await createBenchDatabase('sqlite', '');
  try {
    const seeded = await seed(database.url, { clients: 1, workspaces: 1 });
    // One hash for every storm account: the server still runs a full scrypt per sign-in.
    const passwordHash = await hashPassword(PASSWORD);
    const storage = openStorage(database.url);
    await inTransaction(storage.db, async (trx) => {
      for (let i = 0; i < stormSize; i++)
        await insertUser(trx, { email: `storm-${i}@a.bench`, displayName: null, passwordHash }, Date.now());
    });
    await storage.close();
    const server = await startGatehouse(database.url, null);
    try {
      const target = {
        origin: server.origin,
        method: 'POST' as const,
        path: '/connect/token',
        body: TOKEN_BODY,
        headers: tokenHeaders(seeded.main),
      };
      const settings = { connections: 10, pipelining: 1, duration, serverPid: server.child.pid };
      await runLoad(target, { ...settings, duration: 1 });
      const calm: Sample[] = [];
      const stormy: Sample[] = [];
      const outcomes: Record<number, number>[] = [];
      for (let round = 1; round <= rounds; round++) {
        calm.push(await runLoad(target, settings));
        let stop: () => void = () => {};
        const stopped = new Promise<void>((resolve) => {
          stop = resolve;
        });
        const storming = storm(server.origin, stormSize, stopped);
        // Let the storm fill the queue before timing.
        await new Promise((resolve) => setTimeout(resolve, 500));
        stormy.push(await runLoad(target, settings));
        stop();
        outcomes.push(await storming);
        const [c, s] = [calm.at(-1) as Sample, stormy.at(-1) as Sample];
        log(
          `round ${round}: calm ${Math.round(c.rps)} req/s p99 ${c.p99.toFixed(1)} ms | storm ${Math.round(s.rps)} req/s p99 ${s.p99.toFixed(1)} ms, errors ${s.errors} | sign-ins ${JSON.stringify(outcomes.at(-1))}`,
        );
      }
      const p99 = (samples: Sample[]) => median(samples.map((s) => s.p99));
      const rps = (samples: Sample[]) => median(samples.map((s) => s.rps));
      log(
        `\nPOST /connect/token, 1 client, 10 connections; storm of ${stormSize} concurrent sign-ins (medians of ${rounds} rounds)`,
      );
      log(`| | req/s | p99 |\n|---|---|---|`);
      log(`| calm | ${Math.round(rps(calm))} | ${p99(calm).toFixed(1)} ms |`);
      log(`| during the storm | ${Math.round(rps(stormy))} | ${p99(stormy).toFixed(1)} ms |`);
      log(`storm p99 / calm p99: ${(p99(stormy) / p99(calm)).toFixed(2)}x (target <= 3x)`);
    } finally {
      await server.child.stop();
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
