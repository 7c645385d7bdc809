import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { hashPassword } from '../packages/server/src/domain/passwords.ts';
import { openStorage } from '../packages/server/src/storage/database.ts';
import { insertUser } from '../packages/server/src/storage/repositories/users.ts';
import { inTransaction } from '../packages/server/src/storage/transaction.ts';
import { runLoad, type Sample, type Target } from './load.ts';
import { median } from './stats.ts';
import { type Credentials, TOKEN_BODY, tokenHeaders } from './tokens.ts';

/** The password of every storm account: a bench fixture, not a secret. */
const PASSWORD = 'storm-password-not-secret';

/** Connections of the token-endpoint load beside the storm (the storm itself is `size` more). */
export const STORM_CONNECTIONS = 10;

const stormEmail = (i: number) => `storm-${i}@a.bench`;

/** A person gives up on a page after this long (and a stuck server cannot hold the bench). */
const SIGN_IN_TIMEOUT_MS = 30_000;

/**
 * Creates the `size` storm accounts before the server starts. One hash for all of them: the server
 * still runs a full scrypt per sign-in.
 */
export async function seedStormUsers(databaseUrl: string, size: number): Promise<void> {
  const passwordHash = await hashPassword(PASSWORD);
  const storage = openStorage(databaseUrl, { poolSize: 2 });
  try {
    await inTransaction(storage.db, async (trx) => {
      for (let i = 0; i < size; i++)
        await insertUser(trx, { email: stormEmail(i), displayName: null, passwordHash }, Date.now());
    });
  } finally {
    await storage.close();
  }
}

/**
 * One sign-in as a browser does it: the page (CSRF cookie and token), then the form. Returns the status
 * and the Retry-After it was told, in seconds.
 */
async function signIn(origin: string, email: string): Promise<{ status: number; retryAfter: number }> {
  const page = await fetch(`${origin}/console/sign-in`, { signal: AbortSignal.timeout(SIGN_IN_TIMEOUT_MS) });
  const cookie = (page.headers.getSetCookie()[0] ?? '').split(';')[0] ?? '';
  const token = /name="csrf_token" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
  const res = await fetch(`${origin}/console/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    signal: AbortSignal.timeout(SIGN_IN_TIMEOUT_MS),
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
 * long, or until the storm ends: the storm is people, not a flood of retries. Resolves with the count
 * of answers by status (0: no answer) once every sign-in in flight has finished.
 */
async function storm(origin: string, size: number, stop: Promise<void>): Promise<Record<number, number>> {
  const statuses: Record<number, number> = {};
  const ended = new AbortController();
  // Every waiting person listens for the end.
  setMaxListeners(size + 1, ended.signal);
  void stop.then(() => ended.abort());
  await Promise.all(
    Array.from({ length: size }, async (_, i) => {
      while (!ended.signal.aborted) {
        const { status, retryAfter } = await signIn(origin, stormEmail(i)).catch(() => ({
          status: 0,
          retryAfter: 1,
        }));
        statuses[status] = (statuses[status] ?? 0) + 1;
        // The end of the storm ends the wait: a 429's Retry-After can be the budget's whole window.
        if (retryAfter > 0)
          await sleep(retryAfter * 1000, undefined, { signal: ended.signal }).catch(() => {});
      }
    }),
  );
  return statuses;
}

export interface StormSettings {
  origin: string;
  /** The server's process id, for its CPU share. */
  serverPid: number;
  /** The client of the token requests (one client, as in row 4). */
  client: Credentials;
  /** Concurrent sign-ins; the accounts must exist (`seedStormUsers`). */
  size: number;
  rounds: number;
  /** Seconds of each calm and each storm measurement. */
  duration: number;
  /** Called after each round, for progress lines. */
  onRound?: (round: number, calm: Sample, storm: Sample, signIns: Record<number, number>) => void;
}

/** Per round: the token endpoint calm, then during the storm; and the sign-in answers of that storm. */
export interface StormResult {
  size: number;
  /** Seconds of each measurement. */
  duration: number;
  calm: Sample[];
  storm: Sample[];
  signIns: Record<number, number>[];
}

/**
 * `POST /connect/token` (one client, {@link STORM_CONNECTIONS} connections) calm, then while `size`
 * people sign in at once, round after round on the same server: the storm's effect on a neighbour
 * that needs no password hash. Password hashing and token signing may share threads; this is where it shows.
 */
export async function runStorm(settings: StormSettings): Promise<StormResult> {
  const target: Target = {
    origin: settings.origin,
    method: 'POST',
    path: '/connect/token',
    body: TOKEN_BODY,
    headers: tokenHeaders(settings.client),
  };
  const load = {
    connections: STORM_CONNECTIONS,
    pipelining: 1,
    duration: settings.duration,
    serverPid: settings.serverPid,
  };
  await runLoad(target, { ...load, duration: 1 });
  const result: StormResult = {
    size: settings.size,
    duration: settings.duration,
    calm: [],
    storm: [],
    signIns: [],
  };
  for (let round = 1; round <= settings.rounds; round++) {
    const calm = await runLoad(target, load);
    let stop: () => void = () => {};
    const stopped = new Promise<void>((resolve) => {
      stop = resolve;
    });
    const storming = storm(settings.origin, settings.size, stopped);
    // Let the storm fill the queue before timing.
    await sleep(500);
    const stormy = await runLoad(target, load);
    stop();
    const signIns = await storming;
    result.calm.push(calm);
    result.storm.push(stormy);
    result.signIns.push(signIns);
    settings.onRound?.(round, calm, stormy, signIns);
  }
  return result;
}

/** A round's p99; a round without a single answer counts as infinitely slow, not as 0 ms. */
export const answeredP99 = (sample: Sample): number =>
  sample.rps > 0 ? sample.p99 : Number.POSITIVE_INFINITY;

/** Storm p99 over calm p99: the median of the per-round ratios (calm and storm of a round ran back to back). */
export function stormP99Ratio(result: StormResult): number {
  return median(
    result.calm.map((calm, i) => {
      const stormy = result.storm[i];
      return stormy ? answeredP99(stormy) / calm.p99 : Number.NaN;
    }),
  );
}

/** The progress line of one round. */
export function describeStormRound(
  round: number,
  calm: Sample,
  stormy: Sample,
  signIns: Record<number, number>,
): string {
  return (
    `round ${round}: calm ${Math.round(calm.rps)} req/s p99 ${calm.p99.toFixed(1)} ms | ` +
    `storm ${Math.round(stormy.rps)} req/s p99 ${stormy.p99.toFixed(1)} ms, errors ${stormy.errors} | ` +
    `sign-ins ${JSON.stringify(signIns)}`
  );
}
