import type { FastifyRequest } from 'fastify';
import { isWrongMethod } from '../auth/key-cache.ts';
import { KEY_FAILURE_MESSAGES } from '../domain/api-keys.ts';
import { isPublicKey, isWellFormedPrivateKey } from '../domain/key-format.ts';
import { invalidClient, OAuthError } from '../errors/errors.ts';
import { countRefusedKey } from '../http/key-usage.ts';
import type { ApiKey } from '../model/types.ts';
import { traced } from '../telemetry/tracing.ts';
import { type FormParams, formParams } from './form-body.ts';

/** Authentication by the private key (RFC 6749 2.3.1; names from RFC 7591 2): confidential clients. */
export const SECRET_AUTH_METHODS = ['client_secret_basic', 'client_secret_post'] as const;

/**
 * Every client authentication method: the secret ones, and `none` (RFC 7591 2), a public client
 * naming itself by `client_id` alone (RFC 6749 2.1 and 3.2.1), since it has no secret to keep.
 */
export const CLIENT_AUTH_METHODS = [...SECRET_AUTH_METHODS, 'none'] as const;
export type ClientAuthMethod = (typeof CLIENT_AUTH_METHODS)[number];

/** The token endpoint serves both client types: public ones take the code and refresh grants. */
export const TOKEN_AUTH_METHODS: readonly ClientAuthMethod[] = CLIENT_AUTH_METHODS;

/** RFC 7009 2.1: a public client may revoke its own tokens by naming itself. */
export const REVOCATION_AUTH_METHODS: readonly ClientAuthMethod[] = CLIENT_AUTH_METHODS;

/**
 * RFC 7662 2.1 asks the introspection endpoint to authorize its callers, to stop token scanning: a
 * `client_id` anyone can read proves nothing, so only confidential clients introspect.
 */
export const INTROSPECTION_AUTH_METHODS: readonly ClientAuthMethod[] = SECRET_AUTH_METHODS;

/** A confidential client's credentials: its public key and a private key. */
export interface SecretCredentials {
  clientId: string;
  clientSecret: string;
  method: 'client_secret_basic' | 'client_secret_post';
}

/** What the request presented: a secret, or (method `none`) only the client_id of a public client. */
export type ClientCredentials = SecretCredentials | { clientId: string; method: 'none' };

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
export function readBasic(header: string): SecretCredentials {
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
 * A `client_id` without any secret is the method `none` (RFC 6749 3.2.1): whether the client may use
 * it depends on its type, decided once the client is known.
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
  if (bodyId === undefined) {
    throw invalidClient(
      'client authentication is required (HTTP Basic, client_id and client_secret, or client_id alone for a public client)',
    );
  }
  if (bodySecret !== undefined) {
    return { clientId: bodyId, clientSecret: bodySecret, method: 'client_secret_post' };
  }
  return { clientId: bodyId, method: 'none' };
}

/** What a client refused for its type is told: the method that fits it (DESIGN.md 1 "Client type"). */
const WRONG_METHOD_MESSAGES = {
  public_client:
    'this is a public client: it has no client_secret; send its client_id alone (token_endpoint_auth_method none)',
  confidential_client:
    'this is a confidential client: authenticate with its client_secret (HTTP Basic or client_secret_post)',
} as const;

/**
 * A public client named by its client_id alone. Shape first: a value that cannot be a public key is
 * refused without a lookup. Nothing secret is compared, so there is nothing to time.
 */
async function authenticatePublicClient(request: FastifyRequest, clientId: string): Promise<ApiKey> {
  if (!isPublicKey(clientId)) throw invalidClient(KEY_FAILURE_MESSAGES.unknown);
  const result = await request.server.services.keys.verifyPublicClient(clientId);
  if (result.valid) return result.key;
  if (isWrongMethod(result)) throw invalidClient(WRONG_METHOD_MESSAGES[result.code]);
  if ('keyId' in result) countRefusedKey(request, result.keyId, result.code);
  throw invalidClient(KEY_FAILURE_MESSAGES[result.code]);
}

/**
 * A confidential client: its public key and a live private key, compared in constant time by the key
 * cache (DESIGN.md 3 rule 2). Revoked, expired and rotated-out keys are refused; during a rotation's
 * grace period the old private key still works.
 */
async function authenticateSecretClient(
  request: FastifyRequest,
  credentials: SecretCredentials,
): Promise<ApiKey> {
  // Shape and checksum first: a value that cannot be a key is refused without a lookup.
  if (!isPublicKey(credentials.clientId) || !isWellFormedPrivateKey(credentials.clientSecret)) {
    throw invalidClient(KEY_FAILURE_MESSAGES.unknown);
  }
  const result = await request.server.services.keys.verifyClient(
    credentials.clientId,
    credentials.clientSecret,
  );
  if (result.valid) return result.key;
  if (isWrongMethod(result)) throw invalidClient(WRONG_METHOD_MESSAGES[result.code]);
  // The status reasons are only reached after the secret matched: they tell the key's owner, no one else.
  if ('keyId' in result) countRefusedKey(request, result.keyId, result.code);
  throw invalidClient(KEY_FAILURE_MESSAGES[result.code]);
}

/**
 * Authenticates the client by whichever method it used, public or confidential, in a trace span
 * (telemetry/tracing.ts) that names the method, never the secret.
 */
async function authenticateBy(request: FastifyRequest, credentials: ClientCredentials): Promise<ApiKey> {
  return traced('gatehouse.authenticate_client', { 'gatehouse.auth.method': credentials.method }, () =>
    credentials.method === 'none'
      ? authenticatePublicClient(request, credentials.clientId)
      : authenticateSecretClient(request, credentials),
  );
}

/**
 * Pre-handler of the token and revocation endpoints ({@link TOKEN_AUTH_METHODS},
 * {@link REVOCATION_AUTH_METHODS}): a confidential client by its secret, a public client by its
 * client_id alone; each client type takes only its own method. Sets `request.client`.
 */
export async function authenticateClient(request: FastifyRequest): Promise<void> {
  const credentials = readClientCredentials(request.headers.authorization, formParams(request));
  request.client = await authenticateBy(request, credentials);
}

/**
 * Pre-handler of the introspection endpoint ({@link INTROSPECTION_AUTH_METHODS}): confidential clients
 * only (RFC 7662 2.1). A client_id alone is an unsupported method there, `invalid_client` (RFC 6749
 * 5.2), refused before any lookup.
 */
export async function authenticateConfidentialClient(request: FastifyRequest): Promise<void> {
  const credentials = readClientCredentials(request.headers.authorization, formParams(request));
  if (!INTROSPECTION_AUTH_METHODS.includes(credentials.method))
    throw invalidClient(
      'introspection needs a confidential client authenticated by its client_secret (HTTP Basic or client_secret_post)',
    );
  request.client = await authenticateBy(request, credentials);
}

/** The client `authenticateClient` authenticated; only call after it. */
export function clientOf(request: FastifyRequest): ApiKey {
  if (!request.client) throw invalidClient();
  return request.client;
}
