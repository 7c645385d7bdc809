import { audit } from './commands/audit.ts';
import { keys } from './commands/keys.ts';
import { members } from './commands/members.ts';
import { migrateCommand, serve } from './commands/server.ts';
import { signingKeys } from './commands/signing-keys.ts';
import { init, tenants } from './commands/tenants.ts';
import { users } from './commands/users.ts';
import { workspaces } from './commands/workspaces.ts';
import { createOutput, type Output, reportError, UsageError } from './output.ts';

type Command = (args: string[], out: Output) => Promise<void>;

/** Every command; other modules add theirs here (signing-keys, users). */
export const COMMANDS: Record<string, Command> = {
  init,
  serve,
  migrate: migrateCommand,
  tenants,
  workspaces,
  keys,
  'signing-keys': signingKeys,
  members,
  users,
  audit,
};

const HELP = `gatehouse: API authentication server

usage: gatehouse <command> [options] [--json]

  init            create the first organization, its owner and workspace
  serve           start the server (npm start)
  migrate         apply database migrations
  tenants create  add an organization with its owner
  workspaces create|update|archive|restore
  keys create|list|update|revoke|rotate
  members list|add|update|remove
  users create    the same as members add
  audit list      an organization's audit log
  signing-keys list|rotate

Settings come from GATEHOUSE_* environment variables (see README).`;

async function run(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  const json = args.includes('--json');
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(`${HELP}\n`);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  try {
    if (!command) throw new UsageError(`unknown command "${name}"\n\n${HELP}`);
    await command(args, createOutput(json));
    return 0;
  } catch (error) {
    return reportError(error, json);
  }
}

const code = await run(process.argv.slice(2));
// serve keeps the process alive; every other command ends here.
if (process.argv[2] !== 'serve' || code !== 0) process.exitCode = code;
