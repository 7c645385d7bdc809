import { alternatives, asksForHelp, parseCommand } from './args.ts';
import { COMMANDS, findEntry, findSubcommand, helpText } from './command-table.ts';
import { tableAsJson } from './help.ts';
import { createOutput, reportError, UsageError } from './output.ts';
import { type CommandSpec, isGroup } from './spec.ts';

/** Options that may also come before the command. */
const GLOBAL_NAMES = new Set(['--json', '--quiet']);

/** Prints help on stdout (the command table with --json): asked for, it is the result. */
function printHelp(path: string[], json: boolean): number {
  process.stdout.write(json ? `${JSON.stringify(tableAsJson(COMMANDS))}\n` : `${helpText(path)}\n`);
  return 0;
}

/**
 * Runs `gatehouse` with these arguments and returns the exit status: 0 done, 1 failed while running,
 * 2 wrong usage or settings (then nothing was done). Never throws.
 */
export async function run(argv: string[]): Promise<number> {
  // Options of every command may also come before it (`gatehouse --json keys list ...`).
  const leading = argv.findIndex((a) => !GLOBAL_NAMES.has(a));
  const args = leading <= 0 ? [...argv] : [...argv.slice(leading), ...argv.slice(0, leading)];
  const json = args.includes('--json');
  const out = createOutput({ json, quiet: args.includes('--quiet') });
  try {
    const [name, ...rest] = leading === -1 ? [] : args;
    if (name === undefined) {
      process.stderr.write(`${helpText([])}\n`);
      return 2;
    }
    if (name === '--help' || name === '-h') return printHelp([], json);
    if (name === 'help') {
      // `gatehouse help keys create`: each word is checked as `gatehouse keys create --help` would be.
      const words = rest.filter((a) => !a.startsWith('-'));
      const flags = rest.filter((a) => a.startsWith('-'));
      if (!words.length && asksForHelp(flags)) return printHelp(['help'], json);
      const help = findEntry('help') as CommandSpec;
      const { positional: _words, ...flagsOnly } = help;
      const { values } = parseCommand(flagsOnly, 'help', flags);
      await help.run({ values, positional: words.join(' ') }, out);
      return 0;
    }
    if (name.startsWith('-'))
      throw new UsageError(`a command comes first, not ${name}; run gatehouse --help for the list`);
    const entry = findEntry(name);
    let spec: CommandSpec;
    let path = name;
    let commandArgs = rest;
    if (isGroup(entry)) {
      const [sub, ...subArgs] = rest;
      if (sub === undefined || sub.startsWith('-')) {
        if (asksForHelp(rest)) return printHelp([name], json);
        const names = alternatives(entry.subcommands.map((s) => s.name));
        throw new UsageError(`${name} needs a subcommand (${names}); run gatehouse ${name} --help`);
      }
      spec = findSubcommand(entry, sub);
      path = `${name} ${sub}`;
      commandArgs = subArgs;
    } else spec = entry;
    if (asksForHelp(commandArgs)) return printHelp(path.split(' '), json);
    await spec.run(parseCommand(spec, path, commandArgs), out);
    return 0;
  } catch (error) {
    return reportError(error, json);
  }
}
