import type { Output } from './output.ts';

/** One option of a command, as the command table declares it: parsing, help and completion read it. */
export interface FlagSpec {
  readonly type: 'string' | 'boolean';
  /** One line for `--help`. */
  readonly description: string;
  /** What the value is, in help and errors: `ID`, `URL`, `ISO`. */
  readonly value?: string;
  /** May be given more than once (`--workspace 1 --workspace 2`). */
  readonly multiple?: boolean;
  /** Missing, it is a usage error (exit 2) before anything runs. */
  readonly required?: boolean;
  /** The only values accepted; completion offers them. */
  readonly choices?: readonly string[];
}

export type Flags = Readonly<Record<string, FlagSpec>>;

type ValueOf<F extends FlagSpec> = F['type'] extends 'boolean'
  ? boolean
  : F extends { multiple: true }
    ? string[]
    : string;
type RequiredKeys<F extends Flags> = { [K in keyof F]: F[K] extends { required: true } ? K : never }[keyof F];

/** What a command's handler receives: required flags are present, the others may be undefined. */
export type Values<F extends Flags> = { -readonly [K in RequiredKeys<F>]: ValueOf<F[K]> } & {
  -readonly [K in Exclude<keyof F, RequiredKeys<F>>]?: ValueOf<F[K]> | undefined;
};

/** The one positional argument a command takes (a public key, a user id). */
export interface PositionalSpec {
  readonly name: string;
  readonly description: string;
  readonly choices?: readonly string[];
  /** May be left out (then it is ''). */
  readonly optional?: boolean;
}

export interface Input<F extends Flags> {
  values: Values<F>;
  /** The positional argument; '' when the command takes none. */
  positional: string;
}

/** A command that runs: `init`, or `keys create` (then `name` is `create`). */
export interface CommandSpec<F extends Flags = Flags> {
  readonly name: string;
  /** One line, for the command list and completion. */
  readonly summary: string;
  readonly positional?: PositionalSpec;
  readonly flags: F;
  /** Lines printed under the flags in `--help` (where a password may come from, say). */
  readonly notes?: readonly string[];
  run(input: Input<F>, out: Output): Promise<void>;
}

/** A command with subcommands: `keys create|list|...`. */
export interface GroupSpec {
  readonly name: string;
  readonly summary: string;
  // Each subcommand has its own flags: the handler types are checked where each is declared.
  // biome-ignore lint/suspicious/noExplicitAny: a list of commands with different flag types
  readonly subcommands: readonly CommandSpec<any>[];
}

// biome-ignore lint/suspicious/noExplicitAny: as above
export type Entry = CommandSpec<any> | GroupSpec;

export const isGroup = (entry: Entry): entry is GroupSpec => 'subcommands' in entry;

/**
 * Declares a command. `const` keeps the flags' literal types (`required: true`), from which the types of
 * `values` in `run` follow, so a handler cannot read a flag the table does not declare.
 */
export function command<const F extends Flags>(spec: CommandSpec<F>): CommandSpec<F> {
  return spec;
}

/** Declares a command with subcommands. */
export function group(spec: GroupSpec): GroupSpec {
  return spec;
}

/** Options every command takes; parsing adds them to each command's own. */
export const GLOBAL_FLAGS = {
  json: {
    type: 'boolean',
    description: 'print the result as one JSON object (errors: one JSON line on stderr)',
  },
  quiet: {
    type: 'boolean',
    description: 'print no progress on stderr (which database, migrations); errors still',
  },
  help: { type: 'boolean', description: 'show this help' },
} as const satisfies Flags;
