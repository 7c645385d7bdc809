import { createServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { AppOptions } from '../../src/app.ts';
import { createTestApp, type DialectName, type TestApp } from './test-app.ts';

const FORM = 'application/x-www-form-urlencoded';

/** Resolves after `ms` milliseconds. */
export const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Retries `check` every 25 ms until it holds or `ms` have passed, then checks one last time: for what
 * settles asynchronously (propagation across instances, audit rows written after the response).
 */
export async function eventually(check: () => Promise<boolean>, ms = 3000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await wait(25);
  }
  return check();
}

/**
 * An HTTP Basic Authorization value for a client (RFC 6749 2.3.1): each part is
 * application/x-www-form-urlencoded-encoded before base64, so that a `:` or a space in an id or
 * secret survives. A test that means to send a raw or malformed header builds it inline instead.
 */
export function basicAuth(clientId: string, secret: string): string {
  const encode = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(secret)}`).toString('base64')}`;
}

/**
 * `POST`s a form to an injected app. `form` is encoded with URLSearchParams, or sent as it is when a
 * string (for tests that need exact bytes); `headers` may override the content type.
 */
export function postForm(
  app: FastifyInstance,
  url: string,
  form: Record<string, string> | string,
  headers: Record<string, string> = {},
  options: { remoteAddress?: string } = {},
) {
  return app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': FORM, ...headers },
    payload: typeof form === 'string' ? form : new URLSearchParams(form).toString(),
    ...options,
  });
}

/** A loopback port that was free a moment ago, for a server whose configuration must name its port. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  // listen() on a TCP port always yields an AddressInfo (a string only for pipes and sockets).
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}

export interface ListeningTestApp extends TestApp {
  port: number;
  /** `http://127.0.0.1:<port>`: the app's issuer, which is also where it answers. */
  issuer: string;
}

/**
 * A full app on an isolated database, really listening on 127.0.0.1, for clients that speak HTTP
 * (browsers, openid-client, the SDK). The port is chosen before the app is built so that the issuer,
 * and so every `iss` and metadata URL, names the address the app answers on.
 */
export async function listenTestApp(
  dialect: DialectName,
  env: Record<string, string> = {},
  options: Omit<AppOptions, 'storage'> = {},
): Promise<ListeningTestApp> {
  const port = await freePort();
  const t = await createTestApp(dialect, { ...env, GATEHOUSE_PORT: String(port) }, options);
  try {
    await t.app.listen({ host: '127.0.0.1', port });
  } catch (error) {
    await t.close();
    throw error;
  }
  return { ...t, port, issuer: t.app.services.config.issuer };
}
