import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

// DESIGN.md section 2: route -> domain -> repository; only domain/ calls storage/repositories, only
// storage/ imports Kysely, only route layers import Fastify; no import cycles between top-level folders.
// A unit is a top-level folder of src/ or one of its top-level files; imports inside a unit are free.
const INFRA = 'storage-infra';
const ALLOWED = new Map<string, readonly string[]>([
  ['model', []],
  ['errors', []],
  ['config', ['errors']],
  // OpenTelemetry spans (optional, loaded only when configured): imports nothing of ours, so that the
  // storage and route layers can open spans without depending on each other.
  ['telemetry', []],
  ['storage', ['model', 'config', 'errors', 'telemetry']],
  ['domain', ['storage', 'model', 'config', 'errors']],
  ['auth', ['domain', 'model', 'config', 'errors', INFRA]],
  ['services.ts', ['auth', 'domain', 'model', 'config', 'errors', INFRA]],
  ['http', ['services.ts', 'auth', 'domain', 'model', 'config', 'errors', 'telemetry', INFRA]],
  ['api', ['http', 'services.ts', 'auth', 'domain', 'model', 'config', 'errors']],
  ['oauth', ['http', 'services.ts', 'auth', 'domain', 'model', 'config', 'errors', 'telemetry', INFRA]],
  ['console', ['oauth', 'http', 'services.ts', 'auth', 'domain', 'model', 'config', 'errors']],
  ['cli', ['main.ts', 'services.ts', 'domain', 'model', 'config', 'errors', INFRA]],
  [
    'app.ts',
    [
      'services.ts',
      'http',
      'api',
      'oauth',
      'console',
      'auth',
      'domain',
      'model',
      'config',
      'errors',
      'telemetry',
      INFRA,
    ],
  ],
  ['main.ts', ['app.ts', 'services.ts', 'domain', 'model', 'config', 'errors']],
]);
// Connection handles and counters, not data access: the layers above domain/ may hold them.
const STORAGE_INFRA = new Set([
  'src/storage/database.ts',
  'src/storage/transaction.ts',
  'src/storage/counters.ts',
  'src/storage/redis.ts',
  'src/storage/notifications.ts',
]);
const STORAGE_PACKAGES = new Set(['kysely', 'pg', 'better-sqlite3', 'ioredis']);
const ROUTE_UNITS = new Set(['http', 'api', 'oauth', 'console', 'app.ts']);

/**
 * Reads every `.ts` file under `srcDir` (tests excluded) and returns, for each, what it imports: files as
 * paths relative to the parent of `srcDir` (`src/console/sign-in.ts`), packages by name (`@fastify/cookie`).
 */
export function buildImportGraph(srcDir: string): Map<string, string[]> {
  const src = resolve(srcDir);
  const root = dirname(src);
  const files = readdirSync(src, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'))
    .map((name) => join(src, name))
    .sort();
  const graph = new Map<string, string[]>();
  for (const file of files) {
    // The compiler's own pre-processor sees static, type-only, export-from, side-effect and dynamic
    // imports (also `import('x').T` in types) and skips strings and comments, which a regex would not.
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = importedFiles.map(({ fileName }) => resolveSpecifier(root, file, fileName));
    graph.set(toPosix(relative(root, file)), [...new Set(targets)]);
  }
  return graph;
}

function resolveSpecifier(root: string, fromFile: string, specifier: string): string {
  if (!specifier.startsWith('.') && !specifier.startsWith('/')) return packageName(specifier);
  let target = resolve(dirname(fromFile), specifier);
  // Under NodeNext `./x.js` names `./x.ts`: keep whichever really exists.
  const asTs = target.replace(/\.([mc]?)js$/, '.$1ts');
  if (!existsSync(target) && existsSync(asTs)) target = asTs;
  const path = toPosix(relative(root, target));
  // A leading `./` or `../` keeps a file outside src/ from reading as a package name.
  return path.startsWith('src/') || path.startsWith('../') ? path : `./${path}`;
}

function packageName(specifier: string): string {
  if (specifier.startsWith('node:')) return specifier;
  const parts = specifier.split('/');
  return (specifier.startsWith('@') ? parts.slice(0, 2) : parts.slice(0, 1)).join('/');
}

const toPosix = (path: string) => path.split(sep).join('/');
const isFile = (target: string) => /^(src\/|\.\.?\/|\/)/.test(target);
const label = (unit: string) => (unit.endsWith('.ts') || unit === INFRA ? unit : `${unit}/`);

function unitOf(path: string): string | undefined {
  const parts = path.split('/');
  const unit = parts[1];
  if (parts[0] !== 'src' || unit === undefined || !ALLOWED.has(unit)) return undefined;
  // `services.ts` is a unit only as a file directly in src/, a folder only as a folder.
  return unit.endsWith('.ts') === (parts.length === 2) ? unit : undefined;
}

/**
 * Checks an import graph (as built by {@link buildImportGraph}) against the layers of DESIGN.md section 2
 * and returns one message per violation, each naming the file, the import and the rule it breaks.
 */
export function checkLayers(graph: Map<string, string[]>): string[] {
  const violations: string[] = [];
  for (const [file, imports] of graph) {
    const unit = unitOf(file);
    if (unit === undefined) {
      violations.push(
        `${file} is in no known layer: a new top-level entry of src/ must be added to the layer table (test/architecture/import-graph.ts) deliberately`,
      );
      continue;
    }
    for (const target of imports) {
      const rule = isFile(target) ? fileRule(graph, unit, target) : packageRule(unit, target);
      if (rule !== undefined) violations.push(`${file} imports ${target}: ${rule}`);
    }
  }
  return [...violations, ...unitCycles(graph), ...fileCycles(graph)];
}

function packageRule(unit: string, pkg: string): string | undefined {
  if (STORAGE_PACKAGES.has(pkg) && unit !== 'storage') {
    return `only storage/ imports ${pkg} (database and Redis clients stay behind storage/)`;
  }
  if ((pkg === 'fastify' || pkg.startsWith('@fastify/')) && !ROUTE_UNITS.has(unit)) {
    return 'only route layers (http/, api/, oauth/, console/, app.ts) import Fastify, type-only imports included';
  }
  return undefined;
}

function fileRule(graph: Map<string, string[]>, unit: string, target: string): string | undefined {
  if (!graph.has(target)) {
    return target.startsWith('src/')
      ? 'no such source file under src/ (moved or deleted?)'
      : 'resolves outside src/, which imports only its own files and packages';
  }
  const to = unitOf(target);
  // A target in no known layer is reported once, as a file of its own.
  if (to === undefined || to === unit) return undefined;
  const allowed = ALLOWED.get(unit) ?? [];
  if (to === 'storage' && !allowed.includes('storage')) {
    if (target.startsWith('src/storage/repositories/')) return 'only domain/ calls storage/repositories';
    if (!STORAGE_INFRA.has(target)) {
      return 'only domain/ and storage/ import storage internals (all of storage/ but its infra: database, transaction, counters, redis)';
    }
    if (allowed.includes(INFRA)) return undefined;
  }
  if (allowed.includes(to)) return undefined;
  const may = allowed.length === 0 ? 'nothing' : `only ${allowed.map(label).join(', ')}`;
  return `${label(unit)} may not import ${label(to)} (route -> domain -> repository; ${label(unit)} may import ${may})`;
}

function unitCycles(graph: Map<string, string[]>): string[] {
  // For each edge between two units, the first import that creates it, to show where to cut.
  const edges = new Map<string, Map<string, string>>();
  for (const [file, imports] of graph) {
    const from = unitOf(file);
    for (const target of imports) {
      const to = graph.has(target) ? unitOf(target) : undefined;
      if (from === undefined || to === undefined || to === from) continue;
      const out = edges.get(from) ?? new Map<string, string>();
      edges.set(from, out);
      if (!out.has(to)) out.set(to, `${file} imports ${target}`);
    }
  }
  const next = (unit: string) => [...(edges.get(unit)?.keys() ?? [])];
  return components([...edges.keys()], next).map((units) => {
    const examples = units.flatMap((from) =>
      [...(edges.get(from) ?? [])].filter(([to]) => units.includes(to)).map(([, example]) => example),
    );
    return `import cycle between top-level units ${units.map(label).join(', ')} (${examples.join('; ')}): no import cycles between top-level folders`;
  });
}

function fileCycles(graph: Map<string, string[]>): string[] {
  const next = (file: string) => (graph.get(file) ?? []).filter((target) => graph.has(target));
  return components([...graph.keys()], next).map((files) => {
    const cycle = shortestCycle(files, next);
    const all = files.length > cycle.length - 1 ? ` (all ${files.length} files: ${files.join(', ')})` : '';
    return `import cycle between files ${cycle.join(' -> ')}${all}: no import cycles, even inside one folder`;
  });
}

/** Tarjan's strongly connected components of more than one node, each sorted. */
function components(nodes: string[], next: (node: string) => string[]): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (node: string): void => {
    const order = index.size;
    index.set(node, order);
    low.set(node, order);
    stack.push(node);
    for (const to of next(node)) {
      if (!index.has(to)) visit(to);
      if (stack.includes(to)) low.set(node, Math.min(low.get(node) ?? 0, low.get(to) ?? 0));
    }
    if (low.get(node) !== index.get(node)) return;
    const component = stack.splice(stack.lastIndexOf(node));
    if (component.length > 1) found.push(component.sort());
  };
  for (const node of nodes) if (!index.has(node)) visit(node);
  return found;
}

/** A shortest path from the first node of a component back to itself, staying inside it. */
function shortestCycle(component: string[], next: (node: string) => string[]): string[] {
  const start = component[0] ?? '';
  const previous = new Map<string, string>();
  const queue = [start];
  for (const node of queue) {
    for (const to of next(node).filter((target) => component.includes(target))) {
      if (to === start) {
        const path = [node];
        while (path[0] !== start) path.unshift(previous.get(path[0] ?? '') ?? start);
        return [...path, start];
      }
      if (!previous.has(to)) {
        previous.set(to, node);
        queue.push(to);
      }
    }
  }
  return component;
}
