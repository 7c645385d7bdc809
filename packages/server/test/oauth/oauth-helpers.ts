import type { FastifyInstance } from 'fastify';
import type { IssuedApiKey } from '../../src/domain/api-keys.ts';

/** Settings for OAuth tests: the per-address limit on /connect/* must not be what a test hits. */
export const OAUTH_ENV = { GATEHOUSE_TOKEN_RATE_LIMIT: '1000000', GATEHOUSE_RATE_LIMIT: '1000000' };

/** RFC 6749 2.3.1 Basic credentials: each part form-urlencoded, then base64. */
export function basic(clientId: string, secret: string): string {
  const encode = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(secret)}`).toString('base64')}`;
}

export const basicOf = (issued: IssuedApiKey) => basic(issued.key.publicKey, issued.privateKey);

export function form(params: Record<string, string>): string {
  return new URLSearchParams(params).toString();
}

const FORM = 'application/x-www-form-urlencoded';

/** POSTs a form to a /connect/* endpoint. */
export function post(
  app: FastifyInstance,
  url: string,
  payload: string,
  headers: Record<string, string> = {},
) {
  return app.inject({ method: 'POST', url, payload, headers: { 'content-type': FORM, ...headers } });
}

/** A client-credentials token for `issued`. */
export async function tokenFor(app: FastifyInstance, issued: IssuedApiKey, scope = 'api1'): Promise<string> {
  const res = await post(app, '/connect/token', form({ grant_type: 'client_credentials', scope }), {
    authorization: basicOf(issued),
  });
  if (res.statusCode !== 200) throw new Error(`token request failed: ${res.statusCode} ${res.body}`);
  return res.json().access_token;
}

/** Decodes a JWT part without verifying it (tests only look). */
export function decodePart(token: string, index: 0 | 1): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[index] ?? '', 'base64url').toString('utf8'));
}

export const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Retries `check` until it holds or `ms` have passed (propagation across instances is asynchronous). */
export async function eventually(check: () => Promise<boolean>, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await wait(25);
  }
  return check();
}
