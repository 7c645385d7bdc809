import { buildApp } from './app.ts';
import { loadConfig } from './config/config.ts';
import { isUninitialized } from './domain/tenants.ts';

/** Starts the server: environment -> configuration -> app -> listen. Resolves once listening. */
export async function serve(
  env: Record<string, string | undefined> = process.env,
): Promise<() => Promise<void>> {
  const config = loadConfig(env);
  const app = await buildApp(config, { logger: true });
  await app.listen({ host: config.host, port: config.port });
  if (await isUninitialized(app.services.db)) {
    app.log.warn(
      'The database is empty. Create your organization, then an API key:\n' +
        '  npx gatehouse init --email you@example.com --organization "My company" --workspace "Main"\n' +
        '  npx gatehouse keys create --tenant 1 --label "My first key"',
    );
  }
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= app.close());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void close().then(() => process.exit(0)));
  }
  return close;
}
