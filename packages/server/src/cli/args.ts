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
