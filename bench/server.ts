import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { REPO_ROOT } from './options.ts';
import { type Child, freePort, spawnNode, waitForHttp } from './process.ts';

export interface RunningServer {
  origin: string;
  child: Child;
}

let built = false;

/** Builds the bundle `npm start` runs, once per bench run, so that what is measured is what ships. */
function buildOnce(): void {
  if (built) return;
  execFileSync(process.execPath, [join(REPO_ROOT, 'packages/server/scripts/build.mjs')], {
    stdio: 'inherit',
  });
  built = true;
}

/**
 * Starts Gatehouse as its own process, as `npm start` does (the esbuild bundle), on the run's
 * database. The rate limits are raised to their maximum (the limiter still runs and is measured; it just never refuses): the
 * bench measures authentication, not the limiter's 429s. Everything else keeps its default.
 */
export async function startGatehouse(databaseUrl: string, cpuProfDir: string | null): Promise<RunningServer> {
  buildOnce();
  const port = await freePort();
  const nodeArgs = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [];
  const child = spawnNode(
    [...nodeArgs, join(REPO_ROOT, 'packages/server/dist/gatehouse.mjs'), 'serve'],
    {
      GATEHOUSE_HOST: '127.0.0.1',
      GATEHOUSE_PORT: String(port),
      GATEHOUSE_DATABASE_URL: databaseUrl,
      GATEHOUSE_LOG_LEVEL: 'warn',
      GATEHOUSE_RATE_LIMIT: '10000000',
      GATEHOUSE_TOKEN_RATE_LIMIT: '10000000',
      GATEHOUSE_MODE: 'development',
      // A throwaway secret per run, so that nothing is written beside the repository.
      GATEHOUSE_SECRET: randomBytes(32).toString('base64url'),
    },
    REPO_ROOT,
  );
  const origin = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${origin}/healthz`, child);
  } catch (error) {
    await child.stop();
    throw error;
  }
  return { origin, child };
}
