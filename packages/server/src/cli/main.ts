import { keys } from './commands/keys.ts';
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
  users,
};

const HELP = `gatehouse: API authentication server

usage: gatehouse <command> [options] [--json]

  init            create the first organization, its owner and workspace
  serve           start the server (npm start)
  migrate         apply database migrations
  tenants create  add an organization with its owner
  workspaces create
  keys create|list|revoke|rotate
  signing-keys list|rotate
  users create    add a user (or an existing account) to an organization with a role

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
