import { loadConfig } from '../../config/config.ts';
import { serve as startServer } from '../../main.ts';
import { migrate, openStorage } from '../../storage/database.ts';
import { parse } from '../args.ts';
import type { Output } from '../output.ts';

/** `gatehouse serve`: what `npm start` runs. */
export async function serve(args: string[]): Promise<void> {
  parse(args, {});
  await startServer();
}

/** `gatehouse migrate`: applies pending migrations (serve also does on start). */
export async function migrateCommand(args: string[], out: Output): Promise<void> {
  parse(args, {});
  const storage = openStorage(loadConfig().databaseUrl, { poolSize: 1 });
  try {
    const applied = await migrate(storage);
    out.result({ applied }, () =>
      applied.length ? `Applied: ${applied.join(', ')}` : 'The database is up to date.',
    );
  } finally {
    await storage.close();
  }
}
