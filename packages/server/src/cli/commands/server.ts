import cluster from 'node:cluster';
import { loadConfig } from '../../config/config.ts';
import { isUninitialized } from '../../domain/tenants.ts';
import { announceEmptyDatabase, serve as startServer } from '../../main.ts';
import { primaryLog, superviseWorkers } from '../cluster.ts';
import { describeDatabase, withStorage } from '../context.ts';
import { command } from '../spec.ts';

/** `gatehouse serve`: what `npm start` runs. */
export const serve = command({
  name: 'serve',
  summary: 'start the server (npm start runs it); settings come from GATEHOUSE_* variables',
  flags: {},
  notes: [
    'It creates the database if there is none, and applies pending migrations.',
    'GATEHOUSE_WORKERS=N (or auto, one per core) serves the port from N processes.',
  ],
  async run(_input, out) {
    // A worker re-runs this command (node:cluster forks the same entry with the same arguments): it serves.
    if (cluster.isWorker) {
      try {
        await startServer(process.env, { worker: true });
      } catch (error) {
        // The worker's channel to the primary would keep it running: let go of it, so that the process
        // ends once the error is reported, and the primary sees a worker that could not start.
        cluster.worker?.disconnect();
        throw error;
      }
      return;
    }
    const config = loadConfig();
    if (config.workers === 1) {
      out.info(`database ${describeDatabase(config.databaseUrl)}`);
      await startServer();
      return;
    }
    // Migrated here, once, before any worker starts: on SQLite, Kysely's migrator takes no lock, and
    // workers migrating at once would race. Each worker then finds nothing pending.
    const empty = await withStorage(out, (storage) => isUninitialized(storage.db), { create: true });
    const log = primaryLog(config.logLevel);
    if (empty) announceEmptyDatabase(config.databaseUrl, (message) => log.warn(message));
    superviseWorkers(config, log);
  },
});

/** `gatehouse migrate`: applies pending migrations (serve also does on start). */
export const migrate = command({
  name: 'migrate',
  summary: 'create the database if there is none, and apply pending migrations',
  flags: {},
  async run(_input, out) {
    const applied = await withStorage(out, async (_storage, migrated) => migrated, { create: true });
    out.result({ applied }, () =>
      applied.length ? `Applied: ${applied.join(', ')}` : 'The database is up to date.',
    );
  },
});
