import { buildApp } from './app.ts';
import { defaultDatabasePath, isPostgresUrl, loadConfig } from './config/config.ts';
import { isUninitialized } from './domain/tenants.ts';

/** A word for a POSIX shell: quoted unless it is plainly safe. */
const shellWord = (word: string) =>
  /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;

/**
 * What to run on an empty database, as commands that work when pasted into a shell beside the server:
 * `init` asks for the owner's password at the terminal. A SQLite database other than the default is
 * named in the command; a PostgreSQL URL is not (it would print its password), so the hint says to set it.
 */
export function firstStartHint(databaseUrl: string): string {
  const prefix =
    isPostgresUrl(databaseUrl) || databaseUrl === defaultDatabasePath()
      ? ''
      : `GATEHOUSE_DATABASE_URL=${shellWord(databaseUrl)} `;
  return [
    "The database is empty. Create your organization (you will be asked for its owner's password), then an API key:",
    ...(isPostgresUrl(databaseUrl) ? ['(with GATEHOUSE_DATABASE_URL set as for the server)'] : []),
    `  ${prefix}npx gatehouse init --email you@example.com --organization 'My company'`,
    `  ${prefix}npx gatehouse keys create --tenant 1 --label 'My first key'`,
  ].join('\n');
}

/**
 * Says that the database is empty: a warning in the log, and on stderr the commands that fix it, as
 * plain text for the person at the terminal (in a JSON log line the commands' quotes would be escaped,
 * and would not work when pasted). Said once per start: by the process that serves, or by the primary
 * of several workers (`GATEHOUSE_WORKERS`), never by each worker.
 */
export function announceEmptyDatabase(databaseUrl: string, warn: (message: string) => void): void {
  warn('The database is empty: no organization yet (the hint on stderr says how to create one)');
  process.stderr.write(`\n${firstStartHint(databaseUrl)}\n\n`);
}

/** How {@link serve} runs. */
export interface ServeOptions {
  /**
   * One of the workers a primary forked (`GATEHOUSE_WORKERS` above 1, cli/cluster.ts): the primary has
   * applied the migrations and given the first-start hint already, and forwards SIGTERM and SIGINT.
   */
  worker?: boolean;
}

/**
 * Starts one process's server: environment -> configuration -> app -> listen. Resolves once listening,
 * with a function that stops it gracefully. SIGTERM and SIGINT stop it the same way, then end the
 * process: exit 0 once every request in flight finished and the batched writes were flushed, exit 1 when
 * `GATEHOUSE_SHUTDOWN_TIMEOUT` ran out first (the requests still in flight were cut). Several workers on
 * one port are `gatehouse serve`'s (cli/commands/server.ts): each of them runs this.
 */
export async function serve(
  env: Record<string, string | undefined> = process.env,
  options: ServeOptions = {},
): Promise<() => Promise<void>> {
  const config = loadConfig(env);
  const app = await buildApp(config, { logger: true });
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    // A port in use: close what the app opened (pools, timers), so that the process can end.
    await app.close();
    throw error;
  }
  if (!options.worker && (await isUninitialized(app.services.db))) {
    announceEmptyDatabase(config.databaseUrl, (message) => app.log.warn(message));
  }
  const timeoutMs = config.shutdownTimeout * 1000;
  const stop = async () => {
    await app.stopGracefully(timeoutMs);
  };
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      // Ctrl-C reaches a worker twice: from the terminal (its whole process group) and from the primary.
      if (stopping) return;
      stopping = true;
      app.log.info(
        `${signal}: stopping; no new connections, requests in flight finish (up to ${config.shutdownTimeout} s)`,
      );
      void app.stopGracefully(timeoutMs).then((outcome) => {
        if (outcome === 'drained') app.log.info('stopped: every request finished, batched writes flushed');
        process.exit(outcome === 'drained' ? 0 : 1);
      });
    });
  }
  return stop;
}
