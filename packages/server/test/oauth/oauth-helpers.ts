import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import type { IssuedApiKey } from '../../src/domain/api-keys.ts';
import { basicAuth, postForm } from '../helpers/http.ts';

/** Settings for OAuth tests: the per-address limit on /connect/* must not be what a test hits. */
export const OAUTH_ENV = { GATEHOUSE_TOKEN_RATE_LIMIT: '1000000', GATEHOUSE_RATE_LIMIT: '1000000' };

/** The Basic credentials of an issued key (RFC 6749 2.3.1). */
export const basicOf = (issued: IssuedApiKey) => basicAuth(issued.key.publicKey, issued.privateKey);

export function form(params: Record<string, string>): string {
  return new URLSearchParams(params).toString();
}

/** A client-credentials token for `issued`. */
export async function tokenFor(app: FastifyInstance, issued: IssuedApiKey, scope = 'api1'): Promise<string> {
  const res = await postForm(
    app,
    '/connect/token',
    { grant_type: 'client_credentials', scope },
    {
      authorization: basicOf(issued),
    },
  );
  if (res.statusCode !== 200) throw new Error(`token request failed: ${res.statusCode} ${res.body}`);
  return res.json().access_token;
}

/** Decodes a JWT part without verifying it (tests only look). */
export function decodePart(token: string, index: 0 | 1): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[index] ?? '', 'base64url').toString('utf8'));
}

/** A key made through the admin API with `adminKey`, for tests that create clients the way users do. */
export async function createClientThroughApi(
  app: FastifyInstance,
  adminKey: string,
  payload: Record<string, unknown>,
): Promise<{ publicKey: string; privateKey: string }> {
  const res = await app.inject({
    method: 'POST',
    url: '/v1/api-keys',
    headers: { 'x-api-key': adminKey },
    payload,
  });
  expect(res.statusCode, res.body).toBe(201);
  return { publicKey: res.json().publicKey, privateKey: res.json().privateKey };
}
