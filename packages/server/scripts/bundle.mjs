// Bundles the server and CLI (src/cli/main.ts) into `<dist>/gatehouse.mjs`, with the files the code
// reads beside itself. Used by `npm start` (scripts/build.mjs) and by the tests' global setup.
// Dependencies stay external: they load from node_modules, so `dist` must sit inside the package.
import { cpSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Writes the bundle into `dist` (emptied first); returns the path of gatehouse.mjs. */
export async function bundle(dist) {
  rmSync(dist, { recursive: true, force: true });
  const outfile = join(dist, 'gatehouse.mjs');
  await build({
    entryPoints: [join(root, 'src/cli/main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    logLevel: 'warning',
  });
  // Files the code reads beside itself (new URL('./static/...', import.meta.url)).
  cpSync(join(root, 'src/console/static'), join(dist, 'static'), { recursive: true });
  return outfile;
}
