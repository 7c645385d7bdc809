/**
 * Summarises V8 `.cpuprofile` files (from `npm run bench -- --cpu-prof DIR`): top functions by self
 * time, and self time per package, so that a figure below target comes with where the time went.
 *
 * usage: node --import tsx bench/profile-summary.ts <file-or-dir>... [--top 25]
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a function lives: `pkg` for node_modules, `node:` for internals, else the repository path. */
function origin(url: string): string {
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules?.[1]) return modules[1];
  if (url === '') return '(native, gc)';
  if (url.startsWith('node:')) return url;
  const repo = /\/(packages\/[^?]+)/.exec(url);
  return repo?.[1] ?? url;
}

/** Self time (ms) per function and per package of one or more profiles. */
export function summarize(profiles: Profile[]) {
  const byFunction = new Map<string, number>();
  const byOrigin = new Map<string, number>();
  let total = 0;
  for (const profile of profiles) {
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    profile.samples.forEach((id, i) => {
      const node = nodes.get(id);
      const ms = (profile.timeDeltas[i] ?? 0) / 1000;
      if (!node) return;
      const { functionName, url, lineNumber } = node.callFrame;
      const where = url ? `${origin(url)}:${lineNumber + 1}` : '';
      const name = `${functionName || '(anonymous)'} ${where}`.trim();
      byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
      const pkg = functionName === '(idle)' ? '(idle)' : origin(url);
      byOrigin.set(pkg, (byOrigin.get(pkg) ?? 0) + ms);
      total += ms;
    });
  }
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return { total, functions: sorted(byFunction), origins: sorted(byOrigin) };
}

function files(paths: string[]): string[] {
  return paths.flatMap((p) =>
    statSync(p).isDirectory()
      ? readdirSync(p)
          .filter((f) => f.endsWith('.cpuprofile'))
          .map((f) => join(p, f))
      : [p],
  );
}

const isMain = import.meta.url === `file://${process.argv[1]}`;
if (isMain) {
  const { values, positionals } = parseArgs({
    options: { top: { type: 'string', default: '25' } },
    allowPositionals: true,
  });
  const top = Number(values.top);
  const profiles = files(positionals).map((f) => JSON.parse(readFileSync(f, 'utf8')) as Profile);
  const { total, functions, origins } = summarize(profiles);
  const busy = total - (origins.find(([o]) => o === '(idle)')?.[1] ?? 0);
  const pct = (ms: number) => `${((100 * ms) / busy).toFixed(1).padStart(5)}%`;
  process.stdout.write(
    `Total ${total.toFixed(0)} ms sampled, ${busy.toFixed(0)} ms not idle (percentages of the latter)\n\n`,
  );
  process.stdout.write('Self time by package:\n');
  for (const [name, ms] of origins.slice(0, 15))
    if (name !== '(idle)') process.stdout.write(`${pct(ms)}  ${name}\n`);
  process.stdout.write(`\nTop ${top} functions by self time:\n`);
  for (const [name, ms] of functions.filter(([n]) => !n.startsWith('(idle)')).slice(0, top)) {
    process.stdout.write(`${pct(ms)}  ${name}\n`);
  }
}
