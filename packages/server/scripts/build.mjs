// Bundles the server and CLI into dist/gatehouse.mjs for `npm start`.
// Running the bundle rather than the TypeScript sources through tsx's loader halves the
// server's resident memory (measured: about 175 MB idle under tsx, 80 MB bundled) and starts faster.
// Dependencies stay external: they load from node_modules as usual.
import { cpSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

rmSync(dist, { recursive: true, force: true });
await build({
  entryPoints: [join(root, 'src/cli/main.ts')],
  outfile: join(dist, 'gatehouse.mjs'),
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
