import { readTenantAuditLog } from '../../domain/audit-log.ts';
import { requireTenant } from '../../domain/tenants.ts';
import { positiveInt, timestamp } from '../args.ts';
import { withStorage } from '../context.ts';
import { TENANT } from '../flags.ts';
import { UsageError } from '../output.ts';
import { command, group } from '../spec.ts';

const list = command({
  name: 'list',
  summary: "an organization's audit log, newest first, a page at a time",
  flags: {
    tenant: TENANT,
    action: {
      type: 'string',
      value: 'ACTION',
      description: 'only this action (api_key.revoked, member.added...)',
    },
    actor: {
      type: 'string',
      value: 'ACTOR',
      description: 'only events by this actor (cli, user:12, api_key:gpk_...)',
    },
    from: { type: 'string', value: 'ISO', description: 'events at or after this date and time' },
    to: { type: 'string', value: 'ISO', description: 'events before this date and time' },
    page: { type: 'string', value: 'N', description: 'the page to print (default: 1)' },
    size: { type: 'string', value: 'N', description: 'events per page, at most 500 (default: 50)' },
  },
  async run({ values }, out) {
    const tenantId = positiveInt(values.tenant, 'tenant');
    const page = values.page === undefined ? 1 : positiveInt(values.page, 'page');
    const size = values.size === undefined ? 50 : positiveInt(values.size, 'size');
    if (size > 500) throw new UsageError('--size must be at most 500');
    const filter = {
      action: values.action,
      actor: values.actor,
      from: values.from === undefined ? undefined : timestamp(values.from, 'from'),
      to: values.to === undefined ? undefined : timestamp(values.to, 'to'),
    };
    const found = await withStorage(out, async ({ db }) => {
      await requireTenant(db, tenantId);
      return readTenantAuditLog(db, tenantId, { page, size }, filter);
    });
    out.result(found, () =>
      found.items.length
        ? found.items
            .map((e) => `${e.createdAt}  ${e.action.padEnd(24)}  ${e.actor}  ${e.target ?? ''}`)
            .join('\n')
        : `No audit events match in organization ${tenantId}.`,
    );
  },
});

/** `gatehouse audit list`: an organization's audit log. */
export const audit = group({
  name: 'audit',
  summary: 'the audit log of an organization',
  subcommands: [list],
});
