// Builds dist/ for publishing: ES2022 JavaScript and declarations, by tsc (tsconfig.build.json).
// tsc rewrites the sources' `./x.ts` imports to `./x.js` in the JavaScript (rewriteRelativeImportExtensions)
// but not in the declarations, which TypeScript before 5.0 and some declaration tools cannot read: they
// are rewritten here. dist/ is emptied first, so that a deleted source leaves nothing behind.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

rmSync(dist, { recursive: true, force: true });
// `tsc` from the PATH npm gives a package script (the workspace's node_modules/.bin).
execFileSync('tsc', ['-p', 'tsconfig.build.json'], {
  cwd: root,
  stdio: 'inherit',
  shell: process.platform === 'win32',
});
const RELATIVE_TS = /((?:from|import)\s*\(?\s*['"]\.{1,2}\/[^'"]+)\.ts(['"])/g;
for (const file of readdirSync(dist).filter((f) => f.endsWith('.d.ts'))) {
  const path = join(dist, file);
  writeFileSync(path, readFileSync(path, 'utf8').replace(RELATIVE_TS, '$1.js$2'));
}
