import { alternatives, closest } from './args.ts';
import { audit } from './commands/audit.ts';
import { keys } from './commands/keys.ts';
import { members } from './commands/members.ts';
import { migrate, serve } from './commands/server.ts';
import { signingKeys } from './commands/signing-keys.ts';
import { init, tenants } from './commands/tenants.ts';
import { token } from './commands/token.ts';
import { users } from './commands/users.ts';
import { workspaces } from './commands/workspaces.ts';
import { bashCompletion, zshCompletion } from './completion.ts';
import { commandHelp, groupHelp, rootHelp, tableAsJson } from './help.ts';
import { UsageError } from './output.ts';
import { command, type Entry, isGroup } from './spec.ts';

const help = command({
  name: 'help',
  summary: 'help on gatehouse or one of its commands (--json: the command table)',
  positional: {
    name: 'COMMAND',
    description: 'a command, optionally followed by its subcommand (help keys create)',
    optional: true,
  },
  flags: {},
  async run({ positional }, out) {
    out.result(tableAsJson(COMMANDS), () => helpText(positional.split(' ').filter(Boolean)));
  },
});

const completion = command({
  name: 'completion',
  summary: 'print a shell completion script: eval "$(gatehouse completion bash)" in ~/.bashrc',
  positional: { name: 'SHELL', description: 'bash or zsh', choices: ['bash', 'zsh'] },
  flags: {},
  async run({ positional }, out) {
    const script = positional === 'bash' ? bashCompletion(COMMANDS) : zshCompletion(COMMANDS);
    out.result({ shell: positional, script }, () => script.trimEnd());
  },
});

/**
 * Every command of `gatehouse`, in the order help lists them. Parsing, `--help` and completion are all
 * derived from this table (and each command's declaration), so that none can disagree with another.
 * (`help` and `completion` read it only when they run, after it is built.)
 */
export const COMMANDS: readonly Entry[] = [
  init,
  serve,
  migrate,
  tenants,
  workspaces,
  members,
  users,
  keys,
  token,
  audit,
  signingKeys,
  completion,
  help,
];

/** The help for `path` (`[]`, `['keys']`, `['keys', 'create']`); an unknown one is a usage error. */
export function helpText(path: string[]): string {
  const [name, sub] = path;
  if (name === undefined) return rootHelp(COMMANDS);
  const entry = findEntry(name);
  if (!isGroup(entry)) return commandHelp(entry, entry.name);
  if (sub === undefined) return groupHelp(entry);
  return commandHelp(findSubcommand(entry, sub), `${entry.name} ${sub}`);
}

export function findEntry(name: string): Entry {
  const entry = COMMANDS.find((e) => e.name === name);
  if (entry) return entry;
  const near = closest(
    name,
    COMMANDS.map((e) => e.name),
  );
  throw new UsageError(
    `unknown command "${name}"; ${near ? `did you mean ${near}?` : 'run gatehouse --help for the list'}`,
  );
}

export function findSubcommand(group: Extract<Entry, { subcommands: unknown }>, name: string) {
  const spec = group.subcommands.find((s) => s.name === name);
  if (spec) return spec;
  const names = group.subcommands.map((s) => s.name);
  const near = closest(name, names);
  throw new UsageError(
    `unknown subcommand "${name}" of ${group.name}; ${near ? `did you mean ${group.name} ${near}?` : `choose ${alternatives(names)} (run gatehouse ${group.name} --help)`}`,
  );
}
