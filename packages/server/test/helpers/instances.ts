import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import pg from 'pg';
import { migrate, openStorage } from '../../src/storage/database.ts';
import { CLI } from './cli.ts';
import { FetchAgent } from './fetch-agent.ts';
import { freePort } from './http.ts';
import { type Seed, seed } from './seed.ts';
import { POSTGRES_URL } from './test-app.ts';

/** The Redis every instance of a test shares (.ci/run starts it), as test/rate-limit.test.ts uses it. */
export const REDIS_URL = 'redis://127.0.0.1:6379';

/** Starting Node with tsx's loader takes seconds on a busy machine; a process that is not up by then is broken. */
const START_TIMEOUT_MS = 90_000;
/** SIGTERM lets the server close cleanly; one that has not exited by then is killed. */
const STOP_TIMEOUT_MS = 20_000;
/** What is kept of a process's output: enough for the last log lines in an error message. */
const OUTPUT_KEPT = 64 * 1024;

/** One real `gatehouse serve` process, listening on its own loopback port. */
export interface Instance {
  readonly name: string;
  /** `http://127.0.0.1:<port>`: where this process answers (its issuer may name another address). */
  readonly url: string;
  readonly pid: number;
  /** The tail of what the process wrote on stdout and stderr (its JSON log lines). */
  output(): string;
  /** Whether the process is still running. */
  alive(): boolean;
  /** SIGTERM, then waits for the exit (SIGKILL after 20 s); resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** A PostgreSQL database made for one test file, and how to drop it. */
export interface ScaleOutDatabase {
  /** The database's URL (never printed: in general a URL may hold a password). */
  readonly url: string;
  readonly name: string;
  /** The `GATEHOUSE_SECRET` of every process on this database: the signing keys in it are encrypted with it. */
  readonly secret: string;
  drop(): Promise<void>;
}

async function asAdministrator(sql: string): Promise<void> {
  if (!POSTGRES_URL) throw new Error('no PostgreSQL for the tests (see describeEachDialect)');
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * A fresh database on the tests' PostgreSQL server (`gh_scaleout_<random>`), migrated: several
 * processes then share it as instances behind a load balancer share theirs, isolated from every other
 * test. A database rather than a schema, because a server process takes only a URL.
 */
export async function createScaleOutDatabase(): Promise<ScaleOutDatabase> {
  if (!POSTGRES_URL) throw new Error('no PostgreSQL for the tests (see describeEachDialect)');
  const name = `gh_scaleout_${randomBytes(6).toString('hex')}`;
  await asAdministrator(`CREATE DATABASE ${name}`);
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  const storage = openStorage(url.href, { poolSize: 2 });
  try {
    await migrate(storage);
  } finally {
    await storage.close();
  }
  return {
    url: url.href,
    name,
    secret: randomBytes(32).toString('base64url'),
    // FORCE: a process killed without closing its pool must not keep the database alive.
    drop: () => asAdministrator(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

/**
 * Seeds a database through the domain functions on a connection of the test's own (not through any
 * instance): two organizations with their keys, see {@link seed}.
 */
export async function seedDatabase(url: string): Promise<Seed> {
  const storage = openStorage(url, { poolSize: 2 });
  try {
    return await seed(storage.db);
  } finally {
    await storage.close();
  }
}

/** A Redis key prefix of its own for a group of instances: they share counters with each other only. */
export const redisPrefix = () => `gh-scaleout-${randomBytes(6).toString('hex')}:`;

/**
 * The settings every instance of one deployment shares: the database, the secret (signing keys are
 * encrypted with it), the issuer (tokens issued by one are verified by the other) and Redis. Failed
 * authentications are not limited here (tests send hundreds on purpose); everything else keeps its default.
 */
export function deploymentEnv(
  database: Pick<ScaleOutDatabase, 'url' | 'secret'>,
  settings: { issuer: string; redisPrefix?: string; redis?: boolean } & Record<string, unknown>,
): Record<string, string> {
  const { issuer, redisPrefix: prefix, redis = true, ...rest } = settings;
  const env: Record<string, string> = {
    GATEHOUSE_DATABASE_URL: database.url,
    GATEHOUSE_ISSUER: issuer,
    GATEHOUSE_SECRET: database.secret,
    GATEHOUSE_LOG_LEVEL: 'warn',
    GATEHOUSE_AUTH_FAILURE_LIMIT: '10000000',
  };
  if (redis) {
    env.GATEHOUSE_REDIS_URL = REDIS_URL;
    env.GATEHOUSE_REDIS_PREFIX = prefix ?? redisPrefix();
  }
  for (const [name, value] of Object.entries(rest)) env[name] = String(value);
  return env;
}

/** `n` distinct free loopback ports, chosen before start so that an issuer can name one of them. */
export async function freePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

/**
 * Deletes the Redis keys a deployment wrote under its prefix (never anything else: other tests share
 * this Redis). Rate-limit counters would expire within a minute; sign-in budgets last longer.
 */
export async function deleteRedisKeys(env: Record<string, string>): Promise<void> {
  const prefix = env.GATEHOUSE_REDIS_PREFIX;
  if (!prefix || !env.GATEHOUSE_REDIS_URL) return;
  const redis = new Redis(env.GATEHOUSE_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  try {
    await redis.connect();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}

/** Output kept per process: the tail of both streams, interleaved as they arrived. */
function keepOutput(child: ChildProcess): () => string {
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-OUTPUT_KEPT);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => tail;
}

/** Polls `/healthz` until it answers 200; fails at once if the process exits first. */
async function waitUntilServing(instance: Instance, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `${instance.name} exited (${child.exitCode ?? child.signalCode}):\n${instance.output()}`,
      );
    }
    try {
      const res = await fetch(`${instance.url}/healthz`);
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // Not listening yet.
    }
    await sleep(100);
  }
  throw new Error(
    `${instance.name} did not answer /healthz in ${START_TIMEOUT_MS} ms:\n${instance.output()}`,
  );
}

/**
 * Starts `gatehouse serve` as users run it from the sources (bin/gatehouse.js, as test/helpers/cli.ts
 * does), with a clean environment: `PATH`, `env`, and an explicit free loopback port (the issuer, which
 * `env` sets, may name another: the load balancer's). Resolves once `/healthz` answers.
 */
export async function startInstance(
  name: string,
  env: Record<string, string>,
  port?: number,
): Promise<Instance> {
  const listenPort = port ?? (await freePort());
  const child = spawn(process.execPath, [CLI, 'serve'], {
    env: {
      PATH: process.env.PATH ?? '',
      ...env,
      GATEHOUSE_HOST: '127.0.0.1',
      GATEHOUSE_PORT: String(listenPort),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`could not start ${name}`);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const running = () => child.exitCode === null && child.signalCode === null;
  const instance: Instance = {
    name,
    url: `http://127.0.0.1:${listenPort}`,
    pid: child.pid,
    output: keepOutput(child),
    alive: running,
    async stop() {
      if (!running()) return child.exitCode;
      child.kill('SIGTERM');
      const code = await Promise.race([exited, sleep(STOP_TIMEOUT_MS).then(() => 'timeout' as const)]);
      if (code !== 'timeout') return code;
      child.kill('SIGKILL');
      return exited;
    },
  };
  try {
    await waitUntilServing(instance, child);
  } catch (error) {
    await instance.stop();
    throw error;
  }
  return instance;
}

/** What to start: a name for messages, the environment, and the port (a free one when absent). */
export interface InstanceSpec {
  name: string;
  env: Record<string, string>;
  port?: number;
}

/**
 * Starts every instance given, at once: one or several deployments of several processes. If one fails
 * to start, the others are stopped before the error is thrown, so that no process outlives the test.
 */
export async function startInstances(specs: readonly InstanceSpec[]): Promise<Instance[]> {
  const started = await Promise.allSettled(
    specs.map(({ name, env, port }) => startInstance(name, env, port)),
  );
  const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  const up = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  if (failed) {
    await stopInstances(up);
    throw failed.reason;
  }
  return up;
}

/** Stops every instance given (the ones that are still running), at once. */
export async function stopInstances(instances: readonly (Instance | undefined)[]): Promise<void> {
  await Promise.all(instances.map((instance) => instance?.stop()));
}

/** One deployment of two instances, A and B, on a fresh seeded database, behind one issuer (A's). */
export interface Pair {
  database: ScaleOutDatabase;
  seed: Seed;
  a: Instance;
  b: Instance;
}

/** Starts a {@link Pair}; `settings` are the deployment's own (see {@link deploymentEnv}). */
export async function startPair(settings: Record<string, unknown> = {}): Promise<Pair> {
  const database = await createScaleOutDatabase();
  try {
    const seeded = await seedDatabase(database.url);
    const [portA, portB] = (await freePorts(2)) as [number, number];
    const env = deploymentEnv(database, { issuer: `http://127.0.0.1:${portA}`, ...settings });
    const [a, b] = (await startInstances([
      { name: 'A', env, port: portA },
      { name: 'B', env, port: portB },
    ])) as [Instance, Instance];
    return { database, seed: seeded, a, b };
  } catch (error) {
    await database.drop();
    throw error;
  }
}

/** Stops both instances of a pair, then drops its database. */
export async function stopPair(pair: Pair | undefined): Promise<void> {
  if (!pair) return;
  await stopInstances([pair.a, pair.b]);
  await pair.database.drop();
}

/** An answer read whole: status, headers and body (parsed when it is JSON). */
export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  /** The JSON body, as the type the test expects of it (a string map by default); null if not JSON. */
  json<T = Record<string, string>>(): T;
  /** Milliseconds from sending the request to the whole answer. */
  ms: number;
}

/**
 * One HTTP request to an instance over fetch (keep-alive, so that polling measures the server and not
 * connection setup). `form` is sent as application/x-www-form-urlencoded, `body` as JSON.
 */
export async function call(
  instance: Pick<Instance, 'url'>,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: unknown; form?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined;
  if (options.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(options.form).toString();
  } else if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  const started = performance.now();
  const init: RequestInit = { method, headers, redirect: 'manual' };
  if (body !== undefined) init.body = body;
  const res = await fetch(`${instance.url}${path}`, init);
  const text = await res.text();
  const ms = performance.now() - started;
  const parsed: unknown =
    /json/.test(res.headers.get('content-type') ?? '') && text !== '' ? JSON.parse(text) : null;
  // The test states what it expects the server to have sent; its assertions check it.
  return { status: res.status, headers: res.headers, text, json: <T>() => parsed as T, ms };
}

/**
 * p-th percentile (0-100) of `values`, interpolated linearly between the two nearest ranks (Hyndman and
 * Fan's R-7: NumPy's and spreadsheets' default). With 50 samples the nearest-rank p99 would be the
 * maximum itself, one scheduling hiccup of a shared machine; the maximum is printed beside it.
 */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  if (sorted.length === 0) return Number.NaN;
  const position = (p / 100) * (sorted.length - 1);
  // Both indexes lie in 0..length-1 for p in 0..100: the casts drop an undefined that cannot occur.
  const below = sorted[Math.floor(position)] as number;
  const above = sorted[Math.ceil(position)] as number;
  return below + (above - below) * (position - Math.floor(position));
}

/**
 * Polls `path` on an instance every 50 ms until it answers `status`; resolves with that answer and the
 * milliseconds it took, or throws after `boundMs` with the last answer.
 */
export async function waitForStatus(
  on: Instance,
  path: string,
  status: number,
  boundMs: number,
): Promise<{ answer: Answer; afterMs: number }> {
  const started = performance.now();
  for (;;) {
    const answer = await call(on, 'GET', path).catch((error: Error) => error);
    const afterMs = performance.now() - started;
    if (!(answer instanceof Error) && answer.status === status) return { answer, afterMs };
    if (afterMs > boundMs) {
      const last = answer instanceof Error ? answer.message : `${answer.status} ${answer.text}`;
      throw new Error(`${on.name} ${path}: no ${status} within ${boundMs} ms (last: ${last})`);
    }
    await sleep(50);
  }
}

/**
 * An authorization code through an instance's front channel, as a browser gets one: authorize, sign in,
 * consent when asked (the consent is remembered, a write), back to the redirect URI with the code.
 * The instance must be the issuer's address (its pages post to the issuer).
 */
export async function authorizationCode(
  on: Instance,
  client: { clientId: string; redirectUri: string },
  user: { email: string; password: string },
  scope = 'api1 offline_access',
): Promise<string> {
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: client.clientId,
    redirect_uri: client.redirectUri,
    scope,
    state: 'scale-out',
  });
  const { callback } = await new FetchAgent().authorize(`${on.url}/connect/authorize?${query}`, on.url, user);
  const code = callback.searchParams.get('code');
  if (!code) throw new Error(`no code in the redirect to ${callback.origin}${callback.pathname}`);
  return code;
}
