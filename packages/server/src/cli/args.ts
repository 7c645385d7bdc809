import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UsageError } from './output.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses a command's arguments; every command also takes --json. Unknown options are usage errors. */
export function parse<T extends Options>(args: string[], options: T) {
  try {
    return parseArgs({
      args,
      options: { ...options, json: { type: 'boolean' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
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

/** The one positional argument a command takes (a public key, a user id). */
export function onePositional(positionals: string[], what: string, usage: string): string {
  if (positionals.length !== 1 || !positionals[0])
    throw new UsageError(`expected exactly one ${what}\n${usage}`);
  return positionals[0];
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
