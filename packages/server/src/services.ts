import { type BearerVerifier, noBearer } from './auth/bearer.ts';
import { KeyCache, type KeyCacheOptions } from './auth/key-cache.ts';
import type { Config } from './config/config.ts';
import { migrate, openStorage, type Storage } from './storage/database.ts';
import type { Db } from './storage/transaction.ts';

/** Everything a request handler needs, built once per process. */
export interface Services {
  readonly config: Config;
  readonly storage: Storage;
  readonly db: Db;
  readonly keys: KeyCache;
  /** Replaced by the authorization server when it registers. */
  bearer: BearerVerifier;
  /** Tasks run when the app closes, in reverse order of registration. */
  readonly onClose: (() => Promise<void>)[];
}

export interface ServiceOptions {
  /** An already open storage (tests); otherwise opened from the configuration. */
  storage?: Storage;
  keyCache?: KeyCacheOptions;
}

/** Opens the database, applies migrations and starts the caches. */
export async function createServices(config: Config, options: ServiceOptions = {}): Promise<Services> {
  const storage = options.storage ?? openStorage(config.databaseUrl);
  await migrate(storage);
  const keys = new KeyCache(storage.db, options.keyCache);
  await keys.start();
  const services: Services = { config, storage, db: storage.db, keys, bearer: noBearer, onClose: [] };
  services.onClose.push(async () => {
    await keys.stop();
    if (!options.storage) await storage.close();
  });
  return services;
}
