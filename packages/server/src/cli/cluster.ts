import cluster, { type Worker } from 'node:cluster';
import { hostname } from 'node:os';
import type { Config } from '../config/config.ts';

/** pino's level numbers, so that the primary's lines read like the workers' (Fastify's logger). */
const LEVELS: Record<Config['logLevel'], number> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
  silent: Number.POSITIVE_INFINITY,
};

/** A replacement for a worker that died starts after this, doubled for each death in a row... */
const FIRST_RESTART_MS = 250;
/** ...up to this: a worker that cannot start (its database gone) is retried every 30 s, not in a loop. */
const MAX_RESTART_MS = 30_000;
/** A worker that ran this long before dying was healthy: the next replacement starts without delay doubling. */
const STABLE_MS = 30_000;
/** Beyond two shutdown timeouts (a worker's drain, then its flush; http/graceful-shutdown.ts), SIGKILL. */
const KILL_MARGIN_MS = 5_000;

/** What a primary writes: one JSON line per event on stdout, with pino's fields and levels. */
export interface PrimaryLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/**
 * The primary's log: the same JSON lines as the workers' pino logger writes (`level`, `time`, `pid`,
 * `hostname`, `msg`), at the same `GATEHOUSE_LOG_LEVEL`, so that one log pipeline reads both. Written
 * synchronously (stdout is synchronous for files and, on Linux, pipes): the primary writes a few lines
 * per worker start and exit, never per request, and its last line must be out before it exits.
 */
export function primaryLog(
  level: Config['logLevel'],
  write: (line: string) => void = (line) => void process.stdout.write(line),
): PrimaryLog {
  const host = hostname();
  const at =
    (name: 'info' | 'warn' | 'error') =>
    (msg: string, fields: Record<string, unknown> = {}) => {
      if (LEVELS[name] < LEVELS[level]) return;
      const line = {
        level: LEVELS[name],
        time: Date.now(),
        pid: process.pid,
        hostname: host,
        ...fields,
        msg,
      };
      write(`${JSON.stringify(line)}\n`);
    };
  return { info: at('info'), warn: at('warn'), error: at('error') };
}

/** What a worker's exit looked like, for a log line. */
function howItEnded(code: number | null, signal: string | null): string {
  return signal ? `was killed by ${signal}` : `exited with code ${code}`;
}

/** The settings the primary needs: how many workers, where they listen, how long they drain. */
export type ClusterSettings = Pick<Config, 'workers' | 'host' | 'port' | 'shutdownTimeout' | 'redisUrl'>;

/**
 * The primary of `GATEHOUSE_WORKERS` > 1: forks that many workers, each of which re-runs this command
 * (`node:cluster` runs the same entry with the same arguments: the sources through bin/gatehouse.js, or
 * the bundle of `npm start`) and serves the port, which the primary shares out. Workers share nothing
 * but the database and Redis; each keeps its own caches, kept in step with the others' changes as
 * separate instances' are (LISTEN/NOTIFY on PostgreSQL, polling of the invalidations feed on both).
 *
 * - A worker that dies while the others serve is replaced, after a delay that doubles while
 *   replacements keep dying ({@link FIRST_RESTART_MS} to {@link MAX_RESTART_MS}).
 * - A worker that dies before the first start completed stops them all, exit 1: a start that fails
 *   (a wrong secret, an unreachable database) fails as a single process's does, for a supervisor to see.
 * - SIGTERM and SIGINT are passed on to every worker, which drains as a single process does; the
 *   primary exits once all have exited: 0 when each drained, 1 otherwise.
 *
 * The caller has applied the migrations already, so that workers do not race to (Kysely locks its
 * migrations on PostgreSQL, not on SQLite).
 */
export function superviseWorkers(settings: ClusterSettings, log: PrimaryLog): void {
  const live = new Set<Worker>();
  const forkedAt = new Map<Worker, number>();
  const restarts = new Set<NodeJS.Timeout>();
  let starting = true;
  let serving = 0;
  let deathsInARow = 0;
  let stopping = false;
  let cleanExits = true;

  const fieldsOf = (worker: Worker) => ({ worker: worker.id, workerPid: worker.process.pid });
  const fork = () => {
    const worker = cluster.fork();
    live.add(worker);
    forkedAt.set(worker, Date.now());
  };

  function finish(): void {
    for (const timer of restarts) clearTimeout(timer);
    if (starting) log.error(`stopped: the ${settings.workers} workers did not all start (see above)`);
    else if (cleanExits) log.info('stopped: every worker finished its requests and flushed its writes');
    else log.warn('stopped: not every worker finished cleanly (see above)');
    process.exit(cleanExits ? 0 : 1);
  }

  function stopAll(signal: NodeJS.Signals): void {
    stopping = true;
    for (const timer of restarts) clearTimeout(timer);
    restarts.clear();
    if (live.size === 0) {
      finish();
      return;
    }
    for (const worker of live) worker.process.kill(signal);
    const limitMs = 2 * settings.shutdownTimeout * 1000 + KILL_MARGIN_MS;
    setTimeout(() => {
      for (const worker of live) {
        log.error(`worker ${worker.id} (pid ${worker.process.pid}) is still running: killing it`, {
          ...fieldsOf(worker),
        });
        worker.process.kill('SIGKILL');
      }
    }, limitMs).unref();
  }

  cluster.on('listening', (worker, address) => {
    const where = `${address.address ?? settings.host}:${address.port}`;
    log.info(`worker ${worker.id} (pid ${worker.process.pid}) serving on ${where}`, fieldsOf(worker));
    if (starting && ++serving === settings.workers) starting = false;
  });

  cluster.on('exit', (worker, code, signal) => {
    live.delete(worker);
    const lived = Date.now() - (forkedAt.get(worker) ?? 0);
    forkedAt.delete(worker);
    const what = `worker ${worker.id} (pid ${worker.process.pid}) ${howItEnded(code, signal)}`;
    if (stopping) {
      if (code === 0) log.info(`worker ${worker.id} (pid ${worker.process.pid}) stopped`, fieldsOf(worker));
      else {
        cleanExits = false;
        log.warn(`${what} while stopping`, fieldsOf(worker));
      }
      if (live.size === 0) finish();
      return;
    }
    if (starting) {
      cleanExits = false;
      log.error(`${what} before serving: stopping the other workers`, fieldsOf(worker));
      stopAll('SIGTERM');
      return;
    }
    if (lived >= STABLE_MS) deathsInARow = 0;
    const delayMs = Math.min(FIRST_RESTART_MS * 2 ** deathsInARow, MAX_RESTART_MS);
    deathsInARow++;
    log.error(`${what}; a replacement starts in ${delayMs} ms`, fieldsOf(worker));
    const timer = setTimeout(() => {
      restarts.delete(timer);
      fork();
    }, delayMs);
    restarts.add(timer);
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      // Ctrl-C sends SIGINT to the workers too (the terminal's process group); a second signal changes nothing.
      if (stopping) return;
      log.info(
        `${signal}: stopping ${live.size} workers; requests in flight finish (up to ${settings.shutdownTimeout} s)`,
      );
      stopAll(signal);
    });
  }

  log.info(`starting ${settings.workers} workers (GATEHOUSE_WORKERS) on ${settings.host}:${settings.port}`);
  if (!settings.redisUrl) {
    log.warn(
      `${settings.workers} workers without GATEHOUSE_REDIS_URL: rate limits, sign-in and failed-authentication budgets are counted per worker, in memory (each allows the whole budget); set GATEHOUSE_REDIS_URL to share them`,
    );
  }
  for (let i = 0; i < settings.workers; i++) fork();
}
