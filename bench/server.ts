import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { REPO_ROOT } from './options.ts';
import { type Child, freePort, spawnNode, waitForHttp } from './process.ts';

export interface RunningServer {
  origin: string;
  child: Child;
}

/**
 * Starts Gatehouse as its own process, as `npm start` does, on the run's database. The rate limits
 * are raised to their maximum (the limiter still runs and is measured; it just never refuses): the
 * bench measures authentication, not the limiter's 429s. Everything else keeps its default.
 */
export async function startGatehouse(databaseUrl: string, cpuProfDir: string | null): Promise<RunningServer> {
  const port = await freePort();
  const nodeArgs = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [];
  const child = spawnNode(
    [...nodeArgs, join(REPO_ROOT, 'packages/server/bin/gatehouse.js'), 'serve'],
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
