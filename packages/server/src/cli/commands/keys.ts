import {
  createApiKey,
  getKey,
  getKeyListing,
  ID_TOKEN_ALGORITHMS,
  type KeyUpdate,
  keyStatus,
  listKeys,
  revokeApiKey,
  rotateApiKey,
  updateKey,
} from '../../domain/api-keys.ts';
import { CLI_ACTOR } from '../../domain/audit.ts';
import { isPermission } from '../../domain/permissions.ts';
import { requireTenant } from '../../domain/tenants.ts';
import { parseDuration } from '../../domain/validation.ts';
import type { ApiKey, ApiKeyListing, IdTokenAlgorithm } from '../../model/types.ts';
import { allPages, positiveInt, timestamp } from '../args.ts';
import { withStorage } from '../context.ts';
import { iso, TENANT } from '../flags.ts';
import { UsageError } from '../output.ts';
import { command, group } from '../spec.ts';

function view(key: ApiKey | ApiKeyListing) {
  return {
    id: key.id,
    publicKey: key.publicKey,
    tenantId: key.tenantId,
    workspaceId: key.workspaceId,
    label: key.label,
    permissions: key.permissions,
    redirectUris: key.redirectUris,
    corsOrigins: key.corsOrigins,
    clientType: key.clientType,
    postLogoutRedirectUris: key.postLogoutRedirectUris,
    idTokenSignedResponseAlg: key.idTokenSignedResponseAlg,
    expiresAt: iso(key.expiresAt),
  };
}

/** A key as listed: its settings, status and use, and the last 4 characters of its private key only. */
function listingView(key: ApiKeyListing) {
  return {
    ...view(key),
    status: keyStatus(key, Date.now()) ?? 'active',
    last4: key.last4,
    createdAt: iso(key.createdAt),
    lastUsedAt: iso(key.lastUsedAt),
    revokedAt: iso(key.revokedAt),
  };
}

function issuedLines(key: ApiKey, privateKey: string, what: string): string {
  return [
    `API key ${key.id} ${what} for organization ${key.tenantId} (${key.permissions}).`,
    `  public key (client_id):  ${key.publicKey}`,
    `  private key (secret):    ${privateKey}`,
    'The private key is shown only now: store it in a secret manager.',
  ].join('\n');
}

/** A new public client: no private key to print, and why (DESIGN.md 1, "Client type"). */
function publicClientLines(key: ApiKey): string {
  return [
    `API key ${key.id} created for organization ${key.tenantId} (${key.permissions}), a public client.`,
    `  public key (client_id):  ${key.publicKey}`,
    'It has no private key: a single-page or native app cannot keep a secret. It signs people in with',
    'the authorization code flow and PKCE (S256), sending its client_id only; no X-API-Key, no client',
    'credentials.',
  ].join('\n');
}

/** The ID token algorithm flag's value, checked against its choices already; narrowed for the type. */
const idTokenAlgorithmOf = (value: string | undefined): IdTokenAlgorithm | undefined =>
  ID_TOKEN_ALGORITHMS.find((alg) => alg === value);

const PUBLIC_KEY = { name: 'PUBLIC_KEY', description: 'the key, by its public key (gpk_...)' } as const;
const REDIRECT_URI = {
  type: 'string',
  value: 'URL',
  multiple: true,
  description: 'an OAuth redirect URL of the app (https, or http on a loopback address); repeatable',
} as const;
const CORS_ORIGIN = {
  type: 'string',
  value: 'ORIGIN',
  multiple: true,
  description: 'a browser origin allowed to call the API with this key; repeatable',
} as const;
const POST_LOGOUT_REDIRECT_URI = {
  type: 'string',
  value: 'URL',
  multiple: true,
  description:
    'where signing out (OpenID Connect RP-initiated logout) may send people back (https, or http on a loopback address); repeatable',
} as const;
const ID_TOKEN_ALG = {
  type: 'string',
  value: 'ALG',
  choices: ID_TOKEN_ALGORITHMS,
  description: "how the app's ID tokens are signed: RS256 (default) or ES256",
} as const;
const EXPIRES_IN = {
  type: 'string',
  value: 'DURATION',
  description: 'expire after 30d, 12h, 15m...',
} as const;
const EXPIRES_AT = { type: 'string', value: 'ISO', description: 'expire at this date and time' } as const;

const create = command({
  name: 'create',
  summary: 'an API key; prints its private key once (a public client has none)',
  flags: {
    tenant: TENANT,
    workspace: { type: 'string', value: 'ID', description: 'limit the key to this workspace' },
    label: { type: 'string', value: 'TEXT', description: 'what the key is for' },
    permissions: {
      type: 'string',
      value: 'P',
      choices: ['read', 'write', 'admin'],
      description: 'read, write (default) or admin (the admin API; not for a workspace key)',
    },
    public: {
      type: 'boolean',
      description:
        'a public client (single-page or native app): no private key, PKCE required; cannot be changed later',
    },
    'redirect-uri': REDIRECT_URI,
    'post-logout-redirect-uri': POST_LOGOUT_REDIRECT_URI,
    'cors-origin': CORS_ORIGIN,
    'id-token-alg': ID_TOKEN_ALG,
    'expires-in': EXPIRES_IN,
    'expires-at': EXPIRES_AT,
  },
  async run({ values }, out) {
    if (values['expires-in'] !== undefined && values['expires-at'] !== undefined)
      throw new UsageError('give one of --expires-in and --expires-at');
    const input = {
      tenantId: positiveInt(values.tenant, 'tenant'),
      workspaceId: values.workspace === undefined ? null : positiveInt(values.workspace, 'workspace'),
      label: values.label,
      // Checked against the flag's choices already; narrowed for the type.
      permissions:
        values.permissions !== undefined && isPermission(values.permissions) ? values.permissions : undefined,
      redirectUris: values['redirect-uri'] ?? [],
      corsOrigins: values['cors-origin'] ?? [],
      clientType: values.public ? ('public' as const) : ('confidential' as const),
      postLogoutRedirectUris: values['post-logout-redirect-uri'] ?? [],
      idTokenSignedResponseAlg: idTokenAlgorithmOf(values['id-token-alg']),
      expiresInMs:
        values['expires-in'] === undefined ? undefined : parseDuration(values['expires-in'], '--expires-in'),
      expiresAt:
        values['expires-at'] === undefined ? undefined : timestamp(values['expires-at'], 'expires-at'),
    };
    const issued = await withStorage(out, ({ db }) => createApiKey(db, input, CLI_ACTOR));
    const { key, privateKey } = issued;
    // A public client's privateKey is null in the JSON, as in the admin API's answer.
    out.result({ ...view(key), privateKey }, () =>
      privateKey === null ? publicClientLines(key) : issuedLines(key, privateKey, 'created'),
    );
  },
});

const KEY_STATUSES = ['active', 'revoked', 'expired'] as const;

const list = command({
  name: 'list',
  summary: "an organization's keys (never their private keys)",
  flags: {
    tenant: TENANT,
    workspace: { type: 'string', value: 'ID', description: "only this workspace's keys" },
    status: {
      type: 'string',
      value: 'STATUS',
      choices: KEY_STATUSES,
      description: 'active, revoked or expired',
    },
    search: {
      type: 'string',
      value: 'TEXT',
      description: 'only keys whose label or public key contains TEXT',
    },
  },
  async run({ values }, out) {
    const tenantId = positiveInt(values.tenant, 'tenant');
    const query = {
      workspaceId: values.workspace === undefined ? undefined : positiveInt(values.workspace, 'workspace'),
      status: KEY_STATUSES.find((s) => s === values.status),
      q: values.search,
    };
    const listed = await withStorage(out, async ({ db }) => {
      await requireTenant(db, tenantId);
      return allPages((page) => listKeys(db, tenantId, { ...query, page, size: 500 }));
    });
    const items = listed.map(listingView);
    out.result({ items, total: items.length }, () =>
      items.length
        ? items
            .map(
              (k) =>
                `${k.publicKey}  …${k.last4 ?? '----'}  ${k.status.padEnd(7)}  ${k.permissions.padEnd(5)}  ${k.workspaceId ?? 'org'}  ${k.label}`,
            )
            .join('\n')
        : `No API keys in organization ${tenantId}.`,
    );
  },
});

const show = command({
  name: 'show',
  summary: "one key's settings, status and last use (never its private key)",
  positional: PUBLIC_KEY,
  flags: {},
  async run({ positional }, out) {
    const key = await withStorage(out, async ({ db }) => {
      const found = await getKey(db, positional);
      return getKeyListing(db, positional, found.tenantId);
    });
    const shown = listingView(key);
    out.result(shown, () =>
      [
        `API key ${shown.id}: ${shown.label}`,
        `  public key (client_id):  ${shown.publicKey}`,
        shown.clientType === 'public'
          ? '  private key:             none (a public client)'
          : `  private key:             …${shown.last4 ?? '----'} (only its last 4 characters are kept in clear)`,
        `  client type:             ${shown.clientType}`,
        `  organization:            ${shown.tenantId}`,
        `  workspace:               ${shown.workspaceId ?? 'all (an organization key)'}`,
        `  permissions:             ${shown.permissions}`,
        `  status:                  ${shown.status}`,
        `  redirect URIs:           ${shown.redirectUris.join(' ') || 'none'}`,
        `  post-logout redirects:   ${shown.postLogoutRedirectUris.join(' ') || 'none'}`,
        `  CORS origins:            ${shown.corsOrigins.join(' ') || 'none'}`,
        `  ID token algorithm:      ${shown.idTokenSignedResponseAlg}`,
        `  created:                 ${shown.createdAt}`,
        `  expires:                 ${shown.expiresAt ?? 'never'}`,
        `  last used:               ${shown.lastUsedAt ?? 'never'}`,
        ...(shown.revokedAt ? [`  revoked:                 ${shown.revokedAt}`] : []),
      ].join('\n'),
    );
  },
});

const update = command({
  name: 'update',
  summary: "change a key's settings (never its permissions, client type or secret)",
  positional: PUBLIC_KEY,
  flags: {
    label: { type: 'string', value: 'TEXT', description: 'a new label' },
    'redirect-uri': {
      ...REDIRECT_URI,
      description: 'the redirect URLs, replacing the current ones; repeatable',
    },
    'no-redirect-uris': { type: 'boolean', description: 'remove every redirect URL' },
    'cors-origin': {
      ...CORS_ORIGIN,
      description: 'the CORS origins, replacing the current ones; repeatable',
    },
    'no-cors-origins': { type: 'boolean', description: 'remove every CORS origin' },
    'post-logout-redirect-uri': {
      ...POST_LOGOUT_REDIRECT_URI,
      description: 'the post-logout redirect URLs, replacing the current ones; repeatable',
    },
    'no-post-logout-redirect-uris': { type: 'boolean', description: 'remove every post-logout redirect URL' },
    'id-token-alg': ID_TOKEN_ALG,
    'expires-in': EXPIRES_IN,
    'expires-at': EXPIRES_AT,
    'no-expiry': { type: 'boolean', description: 'never expire' },
  },
  async run({ values, positional }, out) {
    const expiries = [values['expires-in'], values['expires-at'], values['no-expiry']].filter(
      (v) => v !== undefined,
    );
    if (expiries.length > 1) throw new UsageError('give one of --expires-in, --expires-at and --no-expiry');
    const changes: KeyUpdate = {
      label: values.label,
      redirectUris: values['no-redirect-uris'] ? [] : values['redirect-uri'],
      corsOrigins: values['no-cors-origins'] ? [] : values['cors-origin'],
      postLogoutRedirectUris: values['no-post-logout-redirect-uris']
        ? []
        : values['post-logout-redirect-uri'],
      idTokenSignedResponseAlg: idTokenAlgorithmOf(values['id-token-alg']),
      expiresAt: values['no-expiry']
        ? null
        : values['expires-in'] !== undefined
          ? Date.now() + parseDuration(values['expires-in'], '--expires-in')
          : values['expires-at'] !== undefined
            ? timestamp(values['expires-at'], 'expires-at')
            : undefined,
    };
    if (Object.values(changes).every((v) => v === undefined))
      throw new UsageError('nothing to change; run gatehouse keys update --help');
    const key = await withStorage(out, ({ db }) => updateKey(db, positional, changes, CLI_ACTOR));
    out.result(view(key), () => `API key ${positional} updated; running servers apply it within a second.`);
  },
});

const revoke = command({
  name: 'revoke',
  summary: 'revoke a key at once, on every instance (again: changes nothing)',
  positional: PUBLIC_KEY,
  flags: {},
  async run({ positional }, out) {
    const key = await withStorage(out, ({ db }) => revokeApiKey(db, positional, CLI_ACTOR));
    out.result({ ...view(key), revokedAt: iso(key.revokedAt) }, () => `API key ${positional} revoked.`);
  },
});

const rotate = command({
  name: 'rotate',
  summary: 'a new private key; the previous one works for the grace period (not for a public client)',
  positional: PUBLIC_KEY,
  flags: {
    grace: {
      type: 'string',
      value: 'DURATION',
      description: 'how long the previous private key keeps working: 0 (default) to 24h',
    },
  },
  async run({ values, positional }, out) {
    const graceMs = values.grace === undefined ? 0 : parseDuration(values.grace, '--grace');
    const issued = await withStorage(out, ({ db }) => rotateApiKey(db, positional, graceMs, CLI_ACTOR));
    const graceEndsAt = iso(Date.now() + graceMs);
    out.result(
      { ...view(issued.key), privateKey: issued.privateKey, previousKeyExpiresAt: graceEndsAt },
      () =>
        [
          `API key ${positional} rotated; the previous private key works until ${graceEndsAt}.`,
          `  new private key: ${issued.privateKey}`,
        ].join('\n'),
    );
  },
});

/** `gatehouse keys ...`: API keys of an organization, through the same domain functions as the admin API. */
export const keys = group({
  name: 'keys',
  summary: 'API keys of an organization',
  subcommands: [create, list, show, update, revoke, rotate],
});
