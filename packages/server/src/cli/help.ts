import { defaultDatabasePath } from '../config/config.ts';
import { flagUsage } from './args.ts';
import { type CommandSpec, type Entry, type Flags, GLOBAL_FLAGS, type GroupSpec, isGroup } from './spec.ts';

// Help is rendered from the command table, as parsing is: what help lists is what parsing accepts.

const WIDTH = 100;

/** `--tenant ID [--label NAME] [--workspace ID]...`: a command's flags as a usage line shows them. */
function synopsis(spec: CommandSpec): string {
  const parts = Object.entries(spec.flags as Flags).map(([name, flag]) => {
    const usage =
      flag.choices && flag.type === 'string' ? `--${name} ${flag.choices.join('|')}` : flagUsage(name, flag);
    const repeat = flag.multiple ? '...' : '';
    return flag.required ? `${usage}${repeat}` : `[${usage}]${repeat}`;
  });
  const positional = spec.positional && (spec.positional.choices?.join('|') ?? spec.positional.name);
  if (positional) parts.unshift(spec.positional?.optional ? `[${positional}]` : positional);
  return parts.join(' ');
}

/** Words joined into lines of at most `WIDTH` characters, each after `indent`. */
function wrap(words: string, indent: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of words.split(' ')) {
    if (line && indent.length + line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  lines.push(line);
  return lines.map((l) => indent + l).join('\n');
}

/** Flag names beside their descriptions, aligned. */
function flagTable(flags: Flags): string {
  const rows = Object.entries(flags).map(([name, flag]) => {
    const left = `${flagUsage(name, flag)}${flag.multiple ? '...' : ''}${name === 'help' ? ', -h' : ''}`;
    return [left, `${flag.required ? 'required: ' : ''}${flag.description}`] as const;
  });
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return rows.map(([left, text]) => `  ${left.padEnd(width)}${text}`).join('\n');
}

/** Every command, one per line with what it does, its flags under it. */
function commandList(table: readonly Entry[]): string {
  const commands = table.flatMap((entry) =>
    isGroup(entry)
      ? entry.subcommands.map((sub) => [`${entry.name} ${sub.name}`, sub] as const)
      : [[entry.name, entry] as const],
  );
  const indent = ' '.repeat(Math.max(...commands.map(([path]) => path.length)) + 4);
  return commands
    .map(([path, spec]) => {
      const usage = synopsis(spec);
      const text = wrap(spec.summary, indent).slice(indent.length);
      return `  ${path.padEnd(indent.length - 2)}${text}${usage ? `\n${wrap(usage, indent)}` : ''}`;
    })
    .join('\n');
}

/** `gatehouse --help`: every command with its flags. */
export function rootHelp(table: readonly Entry[]): string {
  return [
    'gatehouse: the Gatehouse API authentication server and its administration',
    '',
    'usage: gatehouse <command> [<subcommand>] [options]',
    '',
    'commands:',
    commandList(table),
    '',
    'options of every command:',
    flagTable(GLOBAL_FLAGS),
    '',
    `database: GATEHOUSE_DATABASE_URL (a SQLite file or a postgres:// URL), else ${defaultDatabasePath()}`,
    '  (every command that uses it names it on stderr; only init, migrate and serve create one)',
    'settings: GATEHOUSE_* environment variables (README, Configuration)',
    'exit status: 0 done, 1 failed while running, 2 wrong usage or settings (nothing was done)',
    '',
    'Run gatehouse <command> --help for the details of a command.',
  ].join('\n');
}

/** `gatehouse keys --help`: the subcommands of a group. */
export function groupHelp(spec: GroupSpec): string {
  return [
    `gatehouse ${spec.name}: ${spec.summary}`,
    '',
    `usage: gatehouse ${spec.name} <${spec.subcommands.map((s) => s.name).join('|')}> [options]`,
    '',
    'subcommands:',
    commandList([spec]),
    '',
    `Run gatehouse ${spec.name} <subcommand> --help for its options.`,
  ].join('\n');
}

/** `gatehouse keys create --help`: a command's flags, one line each. */
export function commandHelp(spec: CommandSpec, path: string): string {
  const positional = spec.positional
    ? ['arguments:', `  ${spec.positional.name.padEnd(16)}${spec.positional.description}`, '']
    : [];
  const own = Object.keys(spec.flags).length ? ['options:', flagTable(spec.flags as Flags), ''] : [];
  return [
    `gatehouse ${path}: ${spec.summary}`,
    '',
    // Continuation lines indented, so that a wrapped usage still reads as one.
    wrap(`usage: gatehouse ${path} ${synopsis(spec)}`.trimEnd(), '    ').slice(4),
    '',
    ...positional,
    ...own,
    'options of every command:',
    flagTable(GLOBAL_FLAGS),
    ...(spec.notes?.length ? ['', ...spec.notes] : []),
  ].join('\n');
}

/** The command table as data (`gatehouse help --json`), for tools that build on the CLI. */
export function tableAsJson(table: readonly Entry[]): unknown {
  const describe = (spec: CommandSpec) => ({
    summary: spec.summary,
    ...(spec.positional ? { positional: spec.positional } : {}),
    flags: spec.flags,
  });
  return {
    commands: table.map((entry) =>
      isGroup(entry)
        ? {
            name: entry.name,
            summary: entry.summary,
            subcommands: entry.subcommands.map((sub) => ({ name: sub.name, ...describe(sub) })),
          }
        : { name: entry.name, ...describe(entry) },
    ),
    globalFlags: GLOBAL_FLAGS,
  };
}
