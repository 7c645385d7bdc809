import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { isPostgresUrl, loadConfig } from '../config/config.ts';
import { migrate, migrationState, openStorage, type Storage } from '../storage/database.ts';
import { CliError, type Output } from './output.ts';

/** The database as the CLI names it: a SQLite file by its full path, a URL without its password. */
export function describeDatabase(url: string): string {
  if (!isPostgresUrl(url)) return resolve(url.startsWith('file:') ? url.slice(5) : url);
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    if (parsed.searchParams.has('password')) parsed.searchParams.set('password', '***');
    return parsed.href;
  } catch {
    // An unparsable URL might hold a password anywhere: show none of it.
    return 'postgres://(unparsable URL)';
  }
}

export interface StorageOptions {
  /**
   * May create the database (`init`, `migrate`). Every other command needs an existing one: run from
   * the wrong folder or with a mistyped URL, it must fail, not start a second, empty database.
   */
  create?: boolean;
}

/**
 * Opens the configured database, says which on stderr, applies pending migrations (with progress), runs
 * `work` with the names of those applied, then closes it.
 */
export async function withStorage<T>(
  out: Output,
  work: (storage: Storage, migrated: string[]) => Promise<T>,
  options: StorageOptions = {},
): Promise<T> {
  const { databaseUrl } = loadConfig();
  const name = describeDatabase(databaseUrl);
  out.info(`database ${name}`);
  if (!options.create && !isPostgresUrl(databaseUrl) && !existsSync(name))
    throw new CliError(
      'database_missing',
      `no database at ${name}: create it with gatehouse init, or set GATEHOUSE_DATABASE_URL to the database to use`,
    );
  let storage: Storage;
  try {
    storage = openStorage(databaseUrl, { poolSize: 2, mustExist: !options.create });
  } catch (error) {
    throw unreachable(name, error);
  }
  try {
    // The first query: whatever fails here is reaching the database, not the command.
    const state = await migrationState(storage).catch((error: unknown) => {
      throw unreachable(name, error);
    });
    if (!options.create && state.applied.length === 0)
      throw new CliError(
        'database_empty',
        `${name} is not a Gatehouse database yet (no tables): create one with gatehouse init`,
      );
    const migrated = await migrate(storage, {
      onProgress: (progress) =>
        out.info(
          progress.step === 'start'
            ? `migrating database (${progress.pending.length} migration${progress.pending.length === 1 ? '' : 's'})…`
            : 'migrations done',
        ),
    });
    return await work(storage, migrated);
  } finally {
    await storage.close();
  }
}

function unreachable(name: string, error: unknown): CliError {
  const reason = error instanceof Error ? error.message || (error as { code?: string }).code : String(error);
  return new CliError('database_unreachable', `cannot open the database ${name}: ${reason}`);
}
