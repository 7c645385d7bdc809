import { readTenantAuditLog } from '../../domain/audit-log.ts';
import { parse, positiveInt, timestamp } from '../args.ts';
import { withStorage } from '../context.ts';
import { type Output, UsageError } from '../output.ts';

const USAGE =
  'usage: gatehouse audit list --tenant ID [--action A] [--actor A] [--from ISO] [--to ISO] [--page N] [--size N]';

/** `gatehouse audit list`: an organization's audit log, newest first, a page at a time. */
export async function audit(args: string[], out: Output): Promise<void> {
  const [sub, ...rest] = args;
  if (sub !== 'list') throw new UsageError(USAGE);
  const { values } = parse(rest, {
    tenant: { type: 'string' },
    action: { type: 'string' },
    actor: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    page: { type: 'string' },
    size: { type: 'string' },
  });
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
  const found = await withStorage((storage) =>
    readTenantAuditLog(storage.db, tenantId, { page, size }, filter),
  );
  out.result(found, () =>
    found.items.length
      ? found.items
          .map((e) => `${e.createdAt}  ${e.action.padEnd(24)}  ${e.actor}  ${e.target ?? ''}`)
          .join('\n')
      : `No audit events match in organization ${tenantId}.`,
  );
}
