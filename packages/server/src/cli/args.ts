import { parseArgs } from 'node:util';
import { UsageError } from './output.ts';
import { type CommandSpec, type FlagSpec, type Flags, GLOBAL_FLAGS, type Input } from './spec.ts';

/** `a, b or c`. */
export function alternatives(words: readonly string[]): string {
  return words.length < 2 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} or ${words.at(-1)}`;
}

/** Edit distance with transpositions (optimal string alignment): `kyes` is one edit from `keys`. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => d[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, at(i - 2, j - 2) + 1);
      (d[i] as number[])[j] = best;
    }
  }
  return at(a.length, b.length);
}

/** The candidate `word` was most likely meant to be: a near miss, or the one candidate it begins. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const limit = Math.max(1, Math.floor(word.length / 3));
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate);
    if (distance <= limit && (!best || distance < best.distance)) best = { candidate, distance };
  }
  if (best) return best.candidate;
  const extending = word.length >= 2 ? candidates.filter((c) => c.startsWith(word)) : [];
  return extending.length === 1 ? extending[0] : undefined;
}

/** `did you mean X?` when one candidate is close, else where to look. */
export function hint(word: string, candidates: readonly string[], helpCommand: string): string {
  const near = closest(word, candidates);
  return near ? `did you mean ${near}?` : `run ${helpCommand}`;
}

/** `--tenant ID`, `--json`: a flag as help and errors show it. */
export function flagUsage(name: string, flag: FlagSpec): string {
  return flag.type === 'boolean' ? `--${name}` : `--${name} ${flag.value ?? 'VALUE'}`;
}

/** Whether the arguments ask for help (before a `--`, which ends the options). */
export function asksForHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

/**
 * Parses a command's arguments against its entry of the command table: an option it does not declare,
 * a missing value or required flag, a value outside its choices, or a stray argument is a usage error
 * naming the fix. Nothing is read or written before this passes.
 */
export function parseCommand<F extends Flags>(spec: CommandSpec<F>, path: string, args: string[]): Input<F> {
  const flags: Flags = { ...spec.flags, ...GLOBAL_FLAGS };
  const help = `gatehouse ${path} --help`;
  // Not strict: Node's own messages would not name the command or a fix; the tokens are checked below.
  const { tokens } = parseArgs({ args, options: flags, allowPositionals: true, strict: false, tokens: true });
  const values: Record<string, string | boolean | string[]> = {};
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'positional') positionals.push(token.value);
    if (token.kind !== 'option') continue;
    const flag = flags[token.name];
    if (!flag || token.rawName !== `--${token.name}`) {
      const names = Object.keys(flags).map((n) => `--${n}`);
      throw new UsageError(
        `unknown option ${token.rawName} for ${path}; ${hint(token.rawName, names, help)}`,
      );
    }
    if (flag.type === 'boolean') {
      if (token.value !== undefined) throw new UsageError(`--${token.name} takes no value`);
      values[token.name] = true;
      continue;
    }
    if (token.value === undefined)
      throw new UsageError(`--${token.name} needs a value (${flag.value ?? 'VALUE'})`);
    // A value that looks like an option is most likely a forgotten value (`--label --tenant 1`).
    if (!token.inlineValue && token.value.startsWith('-'))
      throw new UsageError(
        `--${token.name} needs a value (${flag.value ?? 'VALUE'}), not ${token.value}; a value that starts with "-" is written --${token.name}=${token.value}`,
      );
    if (flag.choices && !flag.choices.includes(token.value))
      throw new UsageError(`--${token.name} must be ${alternatives(flag.choices)}`);
    if (flag.multiple)
      values[token.name] = [...((values[token.name] as string[] | undefined) ?? []), token.value];
    else if (values[token.name] !== undefined)
      throw new UsageError(`--${token.name} is given twice; give it once`);
    else values[token.name] = token.value;
  }
  for (const [name, flag] of Object.entries(spec.flags)) {
    if (flag.required && values[name] === undefined)
      throw new UsageError(`${path} needs ${flagUsage(name, flag)}; run ${help}`);
  }
  const wanted = spec.positional;
  if (!wanted && positionals.length)
    throw new UsageError(`unexpected argument "${positionals[0]}" for ${path}; run ${help}`);
  if (wanted && (positionals.length > 1 || (positionals.length === 0 && !wanted.optional)))
    throw new UsageError(
      `${path} takes one ${wanted.name}${positionals.length ? `, not ${positionals.length}` : ''}; run ${help}`,
    );
  const positional = positionals[0] ?? '';
  if (wanted?.choices && positionals.length && !wanted.choices.includes(positional))
    throw new UsageError(`${wanted.name} must be ${alternatives(wanted.choices)}`);
  // Sound: every key was checked against the flags above, with the value type each declares.
  return { values: values as Input<F>['values'], positional };
}

export function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new UsageError(`--${flag} is required`);
  return value;
}

export function positiveInt(value: string | undefined, flag: string): number {
  const text = required(value, flag);
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new UsageError(`--${flag} must be a positive integer`);
  return Number(text);
}

/** A positive integer given as the positional argument (a user or workspace id). */
export function positiveId(value: string, what: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`${what} must be a positive integer`);
  return Number(value);
}

/** An ISO 8601 date and time, as epoch ms. */
export function timestamp(value: string, flag: string): number {
  const ms = Date.parse(value);
  if (!/^\d{4}-\d\d-\d\d/.test(value) || Number.isNaN(ms))
    throw new UsageError(`--${flag} must be an ISO 8601 date and time, like 2027-01-31T12:00:00Z`);
  return ms;
}

/** Every item of a paged list, page after page (the CLI prints whole lists). */
export async function allPages<T>(
  read: (page: number) => Promise<{ items: T[]; total: number }>,
): Promise<T[]> {
  const items: T[] = [];
  for (let page = 1; ; page++) {
    const found = await read(page);
    items.push(...found.items);
    if (found.items.length === 0 || items.length >= found.total) return items;
  }
}
