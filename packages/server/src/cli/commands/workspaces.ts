import { CLI_ACTOR } from '../../domain/audit.ts';
import { createWorkspace } from '../../domain/workspaces.ts';
import { parse, positiveInt, required } from '../args.ts';
import { withStorage } from '../context.ts';
import { type Output, UsageError } from '../output.ts';

/** `gatehouse workspaces create --tenant ID --label L`. */
export async function workspaces(args: string[], out: Output): Promise<void> {
  const [sub, ...rest] = args;
  if (sub !== 'create') throw new UsageError('usage: gatehouse workspaces create --tenant ID --label L');
  const { values } = parse(rest, { tenant: { type: 'string' }, label: { type: 'string' } });
  const tenantId = positiveInt(values.tenant, 'tenant');
  const label = required(values.label, 'label');
  const workspace = await withStorage((storage) => createWorkspace(storage.db, tenantId, label, CLI_ACTOR));
  out.result(
    workspace,
    () => `Workspace ${workspace.id} "${workspace.label}" created in organization ${tenantId}.`,
  );
}
