import { loadConfig } from '../../config/config.ts';
import { serve as startServer } from '../../main.ts';
import { describeDatabase, withStorage } from '../context.ts';
import { command } from '../spec.ts';

/** `gatehouse serve`: what `npm start` runs. */
export const serve = command({
  name: 'serve',
  summary: 'start the server (npm start runs it); settings come from GATEHOUSE_* variables',
  flags: {},
  notes: ['It creates the database if there is none, and applies pending migrations.'],
  async run(_input, out) {
    out.info(`database ${describeDatabase(loadConfig().databaseUrl)}`);
    await startServer();
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
