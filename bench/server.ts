import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT } from './options.ts';
import { type Child, freePort, spawnNode, waitForHttp } from './process.ts';

export interface RunningServer {
  origin: string;
  child: Child;
  /** The file the server's stdout (its log) goes to; removed by `stop`. */
  logFile: string;
  /** Empties the log file, so that it never holds more than one measurement's lines. */
  clearLog(): void;
  /**
   * Lines the server logged since the last `clearLog`, once its log has stopped growing (it writes
   * asynchronously, in batches: the lines of a measurement's last requests land after its end).
   */
  logLines(): Promise<number>;
  /** Stops the server (and its workers) and removes its log. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Write V8 CPU profiles of the server here (`--cpu-prof`). */
  cpuProfDir?: string | null;
  /** What a row varies on purpose (`GATEHOUSE_LOG_LEVEL`, `GATEHOUSE_WORKERS`); nothing else is set. */
  env?: Record<string, string>;
}

let built = false;

/**
 * A throwaway secret per bench run, shared by every server of the run: they share its database, whose
 * signing keys are encrypted under it.
 */
const SECRET = randomBytes(32).toString('base64url');

/** Builds the bundle `npm start` runs, once per bench run, so that what is measured is what ships. */
function buildOnce(): void {
  if (built) return;
  execFileSync(process.execPath, [join(REPO_ROOT, 'packages/server/scripts/build.mjs')], {
    stdio: 'inherit',
  });
  built = true;
}

const NEWLINE = 0x0a;

/** Waits until `file` has not grown for 150 ms, 3 s at most. */
async function settled(file: string): Promise<void> {
  const deadline = Date.now() + 3000;
  let size = statSync(file).size;
  let quiet = 0;
  while (quiet < 3 && Date.now() < deadline) {
    await sleep(50);
    const now = statSync(file).size;
    quiet = now === size ? quiet + 1 : 0;
    size = now;
  }
}

/**
 * Starts Gatehouse as its own process, as `npm start` does (the esbuild bundle), on the run's
 * database, with the shipped defaults: the log level is `info` (one access-log line per request), and
 * only the rate limits are raised to their maximum (the limiter still runs and is measured; it just
 * never refuses): the bench measures authentication, not the limiter's 429s. Development mode, as
 * without `NODE_ENV=production`, with a throwaway secret per run so that nothing is written beside the
 * repository. The log goes to a file in the temporary directory, as with `serve > gatehouse.log` or a
 * unit's `StandardOutput=file:`: the server pays for formatting and writing every line, and the bench
 * neither reads it on its own CPU during a measurement nor keeps it in memory.
 */
export async function startGatehouse(
  databaseUrl: string,
  options: StartOptions = {},
): Promise<RunningServer> {
  buildOnce();
  const port = await freePort();
  const { cpuProfDir = null, env = {} } = options;
  const nodeArgs = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [];
  const logDir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-log-'));
  const logFile = join(logDir, 'stdout.log');
  const child = spawnNode(
    [...nodeArgs, join(REPO_ROOT, 'packages/server/dist/gatehouse.mjs'), 'serve'],
    {
      GATEHOUSE_HOST: '127.0.0.1',
      GATEHOUSE_PORT: String(port),
      GATEHOUSE_DATABASE_URL: databaseUrl,
      GATEHOUSE_RATE_LIMIT: '10000000',
      GATEHOUSE_TOKEN_RATE_LIMIT: '10000000',
      GATEHOUSE_MODE: 'development',
      GATEHOUSE_SECRET: SECRET,
      ...env,
    },
    REPO_ROOT,
    logFile,
  );
  const stop = async () => {
    await child.stop();
    rmSync(logDir, { recursive: true, force: true });
  };
  const origin = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${origin}/healthz`, child);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    origin,
    child,
    logFile,
    clearLog: () => truncateSync(logFile, 0),
    logLines: async () => {
      await settled(logFile);
      const text = readFileSync(logFile);
      let lines = 0;
      for (let i = text.indexOf(NEWLINE); i >= 0; i = text.indexOf(NEWLINE, i + 1)) lines++;
      return lines;
    },
    stop,
  };
}
