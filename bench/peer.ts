import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './options.ts';
import { type Child, freePort, spawnNode, waitForHttp } from './process.ts';

/** The peer's install lives here (git-ignored): the shared folder may be read-only. */
const PEER_CACHE = join(REPO_ROOT, 'bench', '.peer');
const FILES = ['package.json', 'package-lock.json', 'server.mjs'];

/** Copies the peer out of its (possibly read-only) folder and runs `npm ci` once per lockfile. */
export function installPeer(peerDir: string): string {
  for (const file of FILES) {
    if (!existsSync(join(peerDir, file))) {
      throw new Error(`reference peer not found: ${join(peerDir, file)} (set GATEHOUSE_PEER_DIR)`);
    }
  }
  mkdirSync(PEER_CACHE, { recursive: true });
  for (const file of FILES) copyFileSync(join(peerDir, file), join(PEER_CACHE, file));
  const stamp = createHash('sha256')
    .update(readFileSync(join(PEER_CACHE, 'package-lock.json')))
    .update(process.version)
    .digest('hex');
  const stampFile = join(PEER_CACHE, '.installed');
  const installed = existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp;
  if (!installed || !existsSync(join(PEER_CACHE, 'node_modules', 'oidc-provider'))) {
    process.stdout.write('Installing the reference peer (npm ci, once)...\n');
    execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: PEER_CACHE,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    writeFileSync(stampFile, stamp);
  }
  return PEER_CACHE;
}

export interface RunningPeer {
  origin: string;
  child: Child;
  version: string;
}

/** Starts oidc-provider with `clients` in-memory clients on its own loopback port. */
export async function startPeer(installDir: string, clients: number): Promise<RunningPeer> {
  const port = await freePort();
  const child = spawnNode(
    [join(installDir, 'server.mjs')],
    { PORT: String(port), PEER_CLIENTS: String(clients), NODE_ENV: 'production' },
    installDir,
  );
  const origin = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${origin}/.well-known/openid-configuration`, child);
  } catch (error) {
    await child.stop();
    throw error;
  }
  const pkg = JSON.parse(
    readFileSync(join(installDir, 'node_modules', 'oidc-provider', 'package.json'), 'utf8'),
  ) as { version: string };
  return { origin, child, version: pkg.version };
}

/** Client `i` of the peer, as its README defines it. */
export function peerClient(i: number): { publicKey: string; privateKey: string } {
  return { publicKey: `pk_peer_${i}`, privateKey: `sk_peer_${i}_${'s'.repeat(40)}` };
}
