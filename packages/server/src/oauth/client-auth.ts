import type { FastifyRequest } from 'fastify';
import { KEY_FAILURE_MESSAGES } from '../domain/api-keys.ts';
import { isPublicKey, isWellFormedPrivateKey } from '../domain/key-format.ts';
import { invalidClient, OAuthError } from '../errors/errors.ts';
import { countRefusedKey } from '../http/key-usage.ts';
import type { ApiKey } from '../model/types.ts';
import { type FormParams, formParams } from './form-body.ts';

/** Client authentication methods we support (RFC 6749 2.3.1; names from RFC 7591 2). */
export const CLIENT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post'] as const;
export type ClientAuthMethod = (typeof CLIENT_AUTH_METHODS)[number];

export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
  method: ClientAuthMethod;
}

const BASIC = /^Basic +([A-Za-z0-9+/]+={0,2})$/i;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** RFC 6749 2.3.1: client_id and client_secret are form-urlencoded before being put in the Basic header. */
function formDecode(component: string): string {
  return decodeURIComponent(component.replace(/\+/g, ' '));
}

/**
 * Reads `Authorization: Basic` (RFC 7617). Anything malformed (not base64, not UTF-8, no colon, bad
 * percent-encoding, an empty part) is a failed client authentication: 401 `invalid_client`, never a 500.
 */
export function readBasic(header: string): ClientCredentials {
  const match = BASIC.exec(header.trim());
  if (!match?.[1])
    throw invalidClient('the Authorization header must be "Basic base64(client_id:client_secret)"');
  let decoded: string;
  try {
    decoded = utf8.decode(Buffer.from(match[1], 'base64'));
  } catch {
    throw invalidClient('the Basic credentials are not valid UTF-8');
  }
  const colon = decoded.indexOf(':');
  if (colon < 0) throw invalidClient('the Basic credentials lack the ":" separator');
  let clientId: string;
  let clientSecret: string;
  try {
    clientId = formDecode(decoded.slice(0, colon));
    clientSecret = formDecode(decoded.slice(colon + 1));
  } catch {
    throw invalidClient('the Basic credentials are not correctly form-urlencoded');
  }
  if (!clientId || !clientSecret)
    throw invalidClient('the Basic credentials lack a client_id or client_secret');
  return { clientId, clientSecret, method: 'client_secret_basic' };
}

/**
 * The client's credentials, from exactly one method. RFC 6749 2.3: a client MUST NOT use more than one
 * authentication method per request, so Basic together with a body `client_secret` is `invalid_request`.
 */
export function readClientCredentials(
  authorization: string | undefined,
  params: FormParams,
): ClientCredentials {
  const bodyId = params.get('client_id');
  const bodySecret = params.get('client_secret');
  if (authorization !== undefined) {
    if (bodySecret !== undefined) {
      throw new OAuthError(
        'invalid_request',
        'use one client authentication method, not Basic and client_secret',
      );
    }
    const basic = readBasic(authorization);
    // A client_id may accompany Basic credentials (RFC 6749 4.1.3), but it must name the same client.
    if (bodyId !== undefined && bodyId !== basic.clientId) {
      throw new OAuthError('invalid_request', 'client_id differs from the authenticated client');
    }
    return basic;
  }
  if (bodyId !== undefined && bodySecret !== undefined) {
    return { clientId: bodyId, clientSecret: bodySecret, method: 'client_secret_post' };
  }
  throw invalidClient('client authentication is required (HTTP Basic or client_id and client_secret)');
}

/**
 * Pre-handler of the OAuth endpoints: authenticates the client by its public key (client_id) and a
 * live private key (client_secret), compared in constant time by the key cache (DESIGN.md 3 rule 2),
 * and sets `request.client`. Revoked, expired and rotated-out keys are refused; during a rotation's
 * grace period the old private key still works.
 */
export async function authenticateClient(request: FastifyRequest): Promise<void> {
  const credentials = readClientCredentials(request.headers.authorization, formParams(request));
  // Shape and checksum first: a value that cannot be a key is refused without a lookup.
  if (!isPublicKey(credentials.clientId) || !isWellFormedPrivateKey(credentials.clientSecret)) {
    throw invalidClient(KEY_FAILURE_MESSAGES.unknown);
  }
  const result = await request.server.services.keys.verifyClient(
    credentials.clientId,
    credentials.clientSecret,
  );
  // The status reasons are only reached after the secret matched: they tell the key's owner, no one else.
  if (!result.valid) {
    if ('keyId' in result) countRefusedKey(request, result.keyId, result.code);
    throw invalidClient(KEY_FAILURE_MESSAGES[result.code]);
  }
  request.client = result.key;
}

/** The client `authenticateClient` authenticated; only call after it. */
export function clientOf(request: FastifyRequest): ApiKey {
  if (!request.client) throw invalidClient();
  return request.client;
}
