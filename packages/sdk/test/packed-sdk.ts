import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const SDK_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT = join(SDK_DIR, '..', '..');
/** The repository's tools (tsc), on the PATH of the copy's `prepack` as npm gives them to the workspace. */
const TOOLS_PATH = `${join(ROOT, 'node_modules', '.bin')}${delimiter}${process.env.PATH ?? ''}`;

/** Runs a command without blocking this process (the server under test answers in it). */
export async function command(
  file: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string> },
) {
  return run(file, args, {
    cwd: options.cwd,
    env: { ...process.env, PATH: TOOLS_PATH, ...options.env },
    maxBuffer: 16 * 1024 * 1024,
  });
}

export interface PackedSdk {
  /** The temporary folder holding everything below; `cleanup()` removes it. */
  dir: string;
  tarball: string;
  /** The tarball's entries, as `tar -tzf` lists them (`package/dist/index.js`...). */
  files: string[];
  cleanup: () => void;
}

/**
 * `npm pack` of a copy of the SDK in a temporary folder, so that its `prepack` build runs as it does
 * for a publisher, without touching the working tree (no dist/ left behind, no race between test files).
 * The copy holds what a clean checkout holds: sources, package.json, README and the build config.
 */
export async function packSdk(): Promise<PackedSdk> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-sdk-'));
  const copy = join(dir, 'sdk');
  mkdirSync(copy);
  for (const file of ['package.json', 'README.md', 'tsconfig.build.json', 'scripts/build.mjs']) {
    cpSync(join(SDK_DIR, file), join(copy, file));
  }
  cpSync(join(SDK_DIR, 'src'), join(copy, 'src'), {
    recursive: true,
    filter: (path) => !path.endsWith('.test.ts'),
  });
  await command('npm', ['pack', '--pack-destination', dir, '--no-fund', '--no-audit'], { cwd: copy });
  const name = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  if (!name) throw new Error('npm pack wrote no tarball');
  const tarball = join(dir, name);
  const { stdout } = await command('tar', ['-tzf', tarball], { cwd: dir });
  const files = stdout.split('\n').filter(Boolean).sort();
  return { dir, tarball, files, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A new project in `parent` (an empty folder but for its package.json) with the tarball installed as
 * a user installs it. Offline: the SDK has no dependencies to download.
 */
export async function installInNewProject(tarball: string, parent: string): Promise<string> {
  const project = join(parent, 'app');
  mkdirSync(project);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'sdk-user', private: true, type: 'module' }),
  );
  await command('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], { cwd: project });
  return project;
}
