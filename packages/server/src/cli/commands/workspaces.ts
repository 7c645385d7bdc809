import { CLI_ACTOR } from '../../domain/audit.ts';
import { createWorkspace, updateWorkspace, type WorkspaceChanges } from '../../domain/workspaces.ts';
import { onePositional, parse, positiveInt, required } from '../args.ts';
import { withStorage } from '../context.ts';
import { type Output, UsageError } from '../output.ts';

const USAGE = `usage:
  gatehouse workspaces create --tenant ID --label L [--logo-url URL] [--retention-days N]
  gatehouse workspaces update ID --tenant ID [--label L] [--logo-url URL | --no-logo] [--retention-days N]
  gatehouse workspaces archive ID --tenant ID
  gatehouse workspaces restore ID --tenant ID`;

const SETTINGS = {
  tenant: { type: 'string' },
  label: { type: 'string' },
  'logo-url': { type: 'string' },
  'no-logo': { type: 'boolean' },
  'retention-days': { type: 'string' },
} as const;

function retention(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError('--retention-days must be a whole number of days');
  return Number(value);
}

/** `gatehouse workspaces ...`: the workspaces of an organization. */
export async function workspaces(args: string[], out: Output): Promise<void> {
  const [sub, ...rest] = args;
  const { values, positionals } = parse(rest, SETTINGS);
  const tenantId = positiveInt(values.tenant, 'tenant');
  if (sub === 'create') {
    const label = required(values.label, 'label');
    const settings = {
      ...(values['logo-url'] !== undefined ? { logoUrl: values['logo-url'] } : {}),
      dataSubjectArchivedRetentionDays: retention(values['retention-days']),
    };
    const workspace = await withStorage((storage) =>
      createWorkspace(storage.db, tenantId, label, CLI_ACTOR, settings),
    );
    out.result(
      workspace,
      () => `Workspace ${workspace.id} "${workspace.label}" created in organization ${tenantId}.`,
    );
    return;
  }
  if (sub !== 'update' && sub !== 'archive' && sub !== 'restore') throw new UsageError(USAGE);
  const id = positiveInt(onePositional(positionals, 'workspace id', USAGE), 'workspace id');
  const changes: WorkspaceChanges =
    sub === 'update'
      ? {
          label: values.label,
          logoUrl: values['no-logo'] ? null : values['logo-url'],
          dataSubjectArchivedRetentionDays: retention(values['retention-days']),
        }
      : { state: sub === 'archive' ? 'Archived' : 'Active' };
  if (Object.values(changes).every((v) => v === undefined))
    throw new UsageError(`nothing to change\n${USAGE}`);
  const workspace = await withStorage((storage) =>
    updateWorkspace(storage.db, tenantId, id, changes, CLI_ACTOR),
  );
  out.result(
    workspace,
    () => `Workspace ${workspace.id} "${workspace.label}" is ${workspace.state.toLowerCase()}.`,
  );
}
