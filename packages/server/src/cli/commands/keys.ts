import {
  createApiKey,
  type KeyUpdate,
  keyStatus,
  listKeys,
  revokeApiKey,
  rotateApiKey,
  updateKey,
} from '../../domain/api-keys.ts';
import { CLI_ACTOR } from '../../domain/audit.ts';
import { isPermission } from '../../domain/permissions.ts';
import { parseDuration } from '../../domain/validation.ts';
import type { ApiKey, ApiKeyListing, Permission } from '../../model/types.ts';
import { allPages, onePositional, parse, positiveInt, timestamp } from '../args.ts';
import { withStorage } from '../context.ts';
import { type Output, UsageError } from '../output.ts';

const USAGE = `usage:
  gatehouse keys create --tenant ID [--workspace ID] [--label L] [--permissions read|write|admin]
                        [--redirect-uri URL]... [--cors-origin ORIGIN]... [--expires-in 30d | --expires-at ISO]
  gatehouse keys list --tenant ID [--workspace ID] [--status active|revoked|expired] [--search TEXT]
  gatehouse keys update PUBLIC_KEY [--label L] [--redirect-uri URL]... [--no-redirect-uris]
                        [--cors-origin ORIGIN]... [--no-cors-origins] [--expires-in 30d | --expires-at ISO | --no-expiry]
  gatehouse keys revoke PUBLIC_KEY
  gatehouse keys rotate PUBLIC_KEY [--grace 1h]`;

const KEY_STATUSES = ['active', 'revoked', 'expired'] as const;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

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
    expiresAt: iso(key.expiresAt),
  };
}

function permissionsOf(value: string | undefined): Permission | undefined {
  if (value === undefined) return undefined;
  if (!isPermission(value)) throw new UsageError('--permissions must be read, write or admin');
  return value;
}

function issuedLines(key: ApiKey, privateKey: string, what: string): string {
  return [
    `API key ${key.id} ${what} for organization ${key.tenantId} (${key.permissions}).`,
    `  public key (client_id):  ${key.publicKey}`,
    `  private key (secret):    ${privateKey}`,
    'The private key is shown only now: store it in a secret manager.',
  ].join('\n');
}

async function create(rest: string[], out: Output): Promise<void> {
  const { values } = parse(rest, {
    tenant: { type: 'string' },
    workspace: { type: 'string' },
    label: { type: 'string' },
    permissions: { type: 'string' },
    'redirect-uri': { type: 'string', multiple: true },
    'cors-origin': { type: 'string', multiple: true },
    'expires-in': { type: 'string' },
    'expires-at': { type: 'string' },
  });
  const input = {
    tenantId: positiveInt(values.tenant, 'tenant'),
    workspaceId: values.workspace === undefined ? null : positiveInt(values.workspace, 'workspace'),
    label: values.label,
    permissions: permissionsOf(values.permissions),
    redirectUris: values['redirect-uri'] ?? [],
    corsOrigins: values['cors-origin'] ?? [],
    expiresInMs:
      values['expires-in'] === undefined ? undefined : parseDuration(values['expires-in'], '--expires-in'),
    expiresAt: values['expires-at'] === undefined ? undefined : timestamp(values['expires-at'], 'expires-at'),
  };
  const issued = await withStorage((storage) => createApiKey(storage.db, input, CLI_ACTOR));
  out.result({ ...view(issued.key), privateKey: issued.privateKey }, () =>
    issuedLines(issued.key, issued.privateKey, 'created'),
  );
}

async function list(rest: string[], out: Output): Promise<void> {
  const { values } = parse(rest, {
    tenant: { type: 'string' },
    workspace: { type: 'string' },
    status: { type: 'string' },
    search: { type: 'string' },
  });
  const tenantId = positiveInt(values.tenant, 'tenant');
  const status = KEY_STATUSES.find((s) => s === values.status);
  if (values.status !== undefined && !status)
    throw new UsageError('--status must be active, revoked or expired');
  const query = {
    workspaceId: values.workspace === undefined ? undefined : positiveInt(values.workspace, 'workspace'),
    status,
    q: values.search,
  };
  const listed = await withStorage((storage) =>
    allPages((page) => listKeys(storage.db, tenantId, { ...query, page, size: 500 })),
  );
  const items = listed.map((key) => ({
    ...view(key),
    status: keyStatus(key, Date.now()) ?? 'active',
    last4: key.last4,
    createdAt: iso(key.createdAt),
    lastUsedAt: iso(key.lastUsedAt),
    revokedAt: iso(key.revokedAt),
  }));
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
}

async function update(rest: string[], out: Output): Promise<void> {
  const { values, positionals } = parse(rest, {
    label: { type: 'string' },
    'redirect-uri': { type: 'string', multiple: true },
    'no-redirect-uris': { type: 'boolean' },
    'cors-origin': { type: 'string', multiple: true },
    'no-cors-origins': { type: 'boolean' },
    'expires-in': { type: 'string' },
    'expires-at': { type: 'string' },
    'no-expiry': { type: 'boolean' },
  });
  const publicKey = onePositional(positionals, 'public key', USAGE);
  const expiries = [values['expires-in'], values['expires-at'], values['no-expiry']].filter(
    (v) => v !== undefined,
  );
  if (expiries.length > 1) throw new UsageError('give one of --expires-in, --expires-at and --no-expiry');
  const changes: KeyUpdate = {
    label: values.label,
    redirectUris: values['no-redirect-uris'] ? [] : values['redirect-uri'],
    corsOrigins: values['no-cors-origins'] ? [] : values['cors-origin'],
    expiresAt: values['no-expiry']
      ? null
      : values['expires-in'] !== undefined
        ? Date.now() + parseDuration(values['expires-in'], '--expires-in')
        : values['expires-at'] !== undefined
          ? timestamp(values['expires-at'], 'expires-at')
          : undefined,
  };
  if (Object.values(changes).every((v) => v === undefined))
    throw new UsageError(`nothing to change\n${USAGE}`);
  const key = await withStorage((storage) => updateKey(storage.db, publicKey, changes, CLI_ACTOR));
  out.result(view(key), () => `API key ${publicKey} updated; running servers apply it within a second.`);
}

/** `gatehouse keys ...`: API keys of an organization, through the same domain functions as the admin API. */
export async function keys(args: string[], out: Output): Promise<void> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'create':
      return create(rest, out);
    case 'list':
      return list(rest, out);
    case 'update':
      return update(rest, out);
    case 'revoke': {
      const { positionals } = parse(rest, {});
      const publicKey = onePositional(positionals, 'public key', USAGE);
      const key = await withStorage((storage) => revokeApiKey(storage.db, publicKey, CLI_ACTOR));
      out.result({ ...view(key), revokedAt: iso(key.revokedAt) }, () => `API key ${publicKey} revoked.`);
      return;
    }
    case 'rotate': {
      const { values, positionals } = parse(rest, { grace: { type: 'string' } });
      const publicKey = onePositional(positionals, 'public key', USAGE);
      const graceMs = values.grace === undefined ? 0 : parseDuration(values.grace, '--grace');
      const issued = await withStorage((storage) => rotateApiKey(storage.db, publicKey, graceMs, CLI_ACTOR));
      const graceEndsAt = iso(Date.now() + graceMs);
      out.result(
        { ...view(issued.key), privateKey: issued.privateKey, previousKeyExpiresAt: graceEndsAt },
        () =>
          [
            `API key ${publicKey} rotated; the previous private key works until ${graceEndsAt}.`,
            `  new private key: ${issued.privateKey}`,
          ].join('\n'),
      );
      return;
    }
    default:
      throw new UsageError(USAGE);
  }
}
