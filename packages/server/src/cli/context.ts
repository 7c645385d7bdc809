import { loadConfig } from '../config/config.ts';
import { migrate, openStorage, type Storage } from '../storage/database.ts';

/** Opens the configured database with migrations applied, runs `work`, then closes it. */
export async function withStorage<T>(work: (storage: Storage) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const storage = openStorage(config.databaseUrl, { poolSize: 2 });
  try {
    await migrate(storage);
    return await work(storage);
  } finally {
    await storage.close();
  }
}
