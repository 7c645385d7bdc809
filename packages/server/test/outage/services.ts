import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The machine's PostgreSQL cluster and Redis, which every other test shares: stopped and started only
 * by the outage tests, which run alone (their own step in .ci/run, after the main suite, under an
 * exclusive lock on this machine). Always by these exact commands, never by a broad kill.
 */

const REDIS_PORT = '6379';
/** How long a service may take to come back before the test says so. */
const START_TIMEOUT_MS = 60_000;

/** The Debian cluster version (`/etc/postgresql/<version>/main`), or null when there is none to control. */
function clusterVersion(): string | null {
  if (!existsSync('/etc/postgresql')) return null;
  return readdirSync('/etc/postgresql').sort().at(-1) ?? null;
}

/** Why the services cannot be stopped and started here, or null when they can. */
export function cannotControlServices(): string | null {
  if (clusterVersion() === null) return 'no PostgreSQL cluster under /etc/postgresql';
  for (const tool of [
    '/usr/bin/pg_ctlcluster',
    '/usr/bin/pg_isready',
    '/usr/bin/redis-cli',
    '/usr/bin/redis-server',
  ])
    if (!existsSync(tool)) return `${tool} is missing`;
  return null;
}

/** Runs a command; resolves with its exit code and output, never rejects. */
function run(command: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((done) => {
    execFile(command, args, { timeout: START_TIMEOUT_MS }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      done({ code, output: `${stdout}${stderr}`.trim() });
    });
  });
}

async function mustRun(command: string, args: string[]): Promise<void> {
  const result = await run(command, args);
  if (result.code !== 0)
    throw new Error(`${command} ${args.join(' ')} failed (${result.code}): ${result.output}`);
}

/** Polls `check` every 200 ms until it holds; throws naming `what` after {@link START_TIMEOUT_MS}. */
async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} after ${START_TIMEOUT_MS} ms`);
    await sleep(200);
  }
}

export async function postgresIsUp(): Promise<boolean> {
  return (await run('pg_isready', ['-h', '127.0.0.1', '-p', '5432', '-q'])).code === 0;
}

export async function redisIsUp(): Promise<boolean> {
  const pong = await run('redis-cli', ['-h', '127.0.0.1', '-p', REDIS_PORT, 'ping']);
  return pong.code === 0 && pong.output === 'PONG';
}

function pgCtlCluster(action: 'start' | 'stop'): Promise<void> {
  const version = clusterVersion();
  if (version === null) throw new Error('no PostgreSQL cluster under /etc/postgresql');
  return mustRun('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', action]);
}

/** Stops the PostgreSQL cluster (a fast shutdown: open connections are closed). */
export async function stopPostgres(): Promise<void> {
  await pgCtlCluster('stop');
  await until('PostgreSQL still answers', async () => !(await postgresIsUp()));
}

/** Starts the PostgreSQL cluster and waits until `pg_isready -h 127.0.0.1` says it accepts connections. */
export async function startPostgres(): Promise<void> {
  if (!(await postgresIsUp())) await pgCtlCluster('start');
  await until('PostgreSQL is not ready', postgresIsUp);
}

/** Stops Redis without saving (it holds only counters, and this Redis keeps nothing on disk). */
export async function stopRedis(): Promise<void> {
  await mustRun('redis-cli', ['-h', '127.0.0.1', '-p', REDIS_PORT, 'shutdown', 'nosave']).catch(
    async (error) => {
      // SHUTDOWN closes the connection before answering: redis-cli may report that as a failure.
      if (await redisIsUp()) throw error;
    },
  );
  await until('Redis still answers', async () => !(await redisIsUp()));
}

/** Starts Redis exactly as .ci/run does, and waits until it answers PING. */
export async function startRedis(): Promise<void> {
  if (!(await redisIsUp())) {
    await mustRun('redis-server', [
      '--daemonize',
      'yes',
      '--bind',
      '127.0.0.1',
      '-::1',
      '--port',
      REDIS_PORT,
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      '/var/lib/redis',
      '--logfile',
      '/var/log/redis/ci.log',
    ]);
  }
  await until('Redis does not answer', redisIsUp);
}

/**
 * Starts whichever of PostgreSQL and Redis is down: every outage test's `afterAll`, so that the
 * services come back even when a test failed half-way (.ci/run's trap does the same should the whole
 * run die).
 */
export async function restoreServices(): Promise<void> {
  const failures: unknown[] = [];
  await startPostgres().catch((error) => failures.push(error));
  await startRedis().catch((error) => failures.push(error));
  if (failures.length) throw new AggregateError(failures, 'could not start PostgreSQL or Redis again');
}
