import { createApiKey, listKeys, revokeApiKey, rotateApiKey } from '../../domain/api-keys.ts';
import { CLI_ACTOR } from '../../domain/audit.ts';
import { parseDuration } from '../../domain/validation.ts';
import type { ApiKey } from '../../model/types.ts';
import { parse, positiveInt } from '../args.ts';
import { withStorage } from '../context.ts';
import { type Output, UsageError } from '../output.ts';

const USAGE = `usage:
  gatehouse keys create --tenant ID [--workspace ID] [--label L] [--redirect-uri URL]... [--cors-origin ORIGIN]... [--expires-in 30d]
  gatehouse keys list --tenant ID
  gatehouse keys revoke PUBLIC_KEY
  gatehouse keys rotate PUBLIC_KEY [--grace 1h]`;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function view(key: ApiKey) {
  return {
    id: key.id,
    publicKey: key.publicKey,
    tenantId: key.tenantId,
    workspaceId: key.workspaceId,
    label: key.label,
    redirectUris: key.redirectUris,
    corsOrigins: key.corsOrigins,
    expiresAt: iso(key.expiresAt),
  };
}

function onePositional(positionals: string[], what: string): string {
  if (positionals.length !== 1 || !positionals[0])
    throw new UsageError(`expected exactly one ${what}\n${USAGE}`);
  return positionals[0];
}

/** `gatehouse keys ...`: API keys of an organization. */
export async function keys(args: string[], out: Output): Promise<void> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'create': {
      const { values } = parse(rest, {
        tenant: { type: 'string' },
        workspace: { type: 'string' },
        label: { type: 'string' },
        'redirect-uri': { type: 'string', multiple: true },
        'cors-origin': { type: 'string', multiple: true },
        'expires-in': { type: 'string' },
      });
      const input = {
        tenantId: positiveInt(values.tenant, 'tenant'),
        workspaceId: values.workspace === undefined ? null : positiveInt(values.workspace, 'workspace'),
        label: values.label,
        redirectUris: values['redirect-uri'] ?? [],
        corsOrigins: values['cors-origin'] ?? [],
        expiresInMs:
          values['expires-in'] === undefined
            ? undefined
            : parseDuration(values['expires-in'], '--expires-in'),
      };
      const issued = await withStorage((storage) => createApiKey(storage.db, input, CLI_ACTOR));
      out.result({ ...view(issued.key), privateKey: issued.privateKey }, () =>
        [
          `API key ${issued.key.id} created for organization ${issued.key.tenantId}.`,
          `  public key (client_id):  ${issued.key.publicKey}`,
          `  private key (secret):    ${issued.privateKey}`,
          'The private key is shown only now: store it in a secret manager.',
        ].join('\n'),
      );
      return;
    }
    case 'list': {
      const { values } = parse(rest, { tenant: { type: 'string' } });
      const tenantId = positiveInt(values.tenant, 'tenant');
      const listed = await withStorage((storage) => listKeys(storage.db, tenantId));
      const items = listed.map((key) => ({
        ...view(key),
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
                  `${k.publicKey}  …${k.last4 ?? '----'}  ${k.revokedAt ? 'revoked' : 'active '}  ${k.workspaceId ?? 'org'}  ${k.label}`,
              )
              .join('\n')
          : `No API keys in organization ${tenantId}.`,
      );
      return;
    }
    case 'revoke': {
      const { positionals } = parse(rest, {});
      const publicKey = onePositional(positionals, 'public key');
      const key = await withStorage((storage) => revokeApiKey(storage.db, publicKey, CLI_ACTOR));
      out.result({ ...view(key), revokedAt: iso(key.revokedAt) }, () => `API key ${publicKey} revoked.`);
      return;
    }
    case 'rotate': {
      const { values, positionals } = parse(rest, { grace: { type: 'string' } });
      const publicKey = onePositional(positionals, 'public key');
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
