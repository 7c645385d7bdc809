import { CLI_ACTOR } from '../../domain/audit.ts';
import { requireTenant } from '../../domain/tenants.ts';
import {
  createWorkspace,
  listTenantWorkspaces,
  updateWorkspace,
  type WorkspaceChanges,
} from '../../domain/workspaces.ts';
import type { Workspace } from '../../model/types.ts';
import { allPages, positiveId, positiveInt } from '../args.ts';
import { withStorage } from '../context.ts';
import { TENANT } from '../flags.ts';
import { type Output, UsageError } from '../output.ts';
import { command, group } from '../spec.ts';

const LABEL = { type: 'string', value: 'NAME', description: 'the workspace name' } as const;
const LOGO_URL = { type: 'string', value: 'URL', description: 'an https URL of its logo' } as const;
const RETENTION_DAYS = {
  type: 'string',
  value: 'N',
  description: 'days archived data subjects are kept',
} as const;
const WORKSPACE_ID = { name: 'ID', description: 'the workspace, by id (gatehouse workspaces list)' } as const;

function retention(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError('--retention-days must be a whole number of days');
  return Number(value);
}

/** Applies `changes` to the workspace given as the positional argument, and says what it now is. */
async function change(out: Output, tenant: string, id: string, changes: WorkspaceChanges): Promise<void> {
  const tenantId = positiveInt(tenant, 'tenant');
  const workspaceId = positiveId(id, 'ID');
  const workspace = await withStorage(out, ({ db }) =>
    updateWorkspace(db, tenantId, workspaceId, changes, CLI_ACTOR),
  );
  out.result(
    workspace,
    () => `Workspace ${workspace.id} "${workspace.label}" is ${workspace.state.toLowerCase()}.`,
  );
}

const create = command({
  name: 'create',
  summary: 'a workspace',
  flags: {
    tenant: TENANT,
    label: { ...LABEL, required: true },
    'logo-url': LOGO_URL,
    'retention-days': RETENTION_DAYS,
  },
  async run({ values }, out) {
    const tenantId = positiveInt(values.tenant, 'tenant');
    const settings = {
      ...(values['logo-url'] !== undefined ? { logoUrl: values['logo-url'] } : {}),
      dataSubjectArchivedRetentionDays: retention(values['retention-days']),
    };
    const workspace = await withStorage(out, ({ db }) =>
      createWorkspace(db, tenantId, values.label, CLI_ACTOR, settings),
    );
    out.result(
      workspace,
      () => `Workspace ${workspace.id} "${workspace.label}" created in organization ${tenantId}.`,
    );
  },
});

const list = command({
  name: 'list',
  summary: "an organization's workspaces, archived ones included",
  flags: {
    tenant: TENANT,
    search: { type: 'string', value: 'TEXT', description: 'only workspaces whose name contains TEXT' },
  },
  async run({ values }, out) {
    const tenantId = positiveInt(values.tenant, 'tenant');
    const items: Workspace[] = await withStorage(out, async ({ db }) => {
      await requireTenant(db, tenantId);
      return allPages((page) => listTenantWorkspaces(db, tenantId, { page, size: 500, q: values.search }));
    });
    out.result({ items, total: items.length }, () =>
      items.length
        ? items.map((w) => `${String(w.id).padStart(6)}  ${w.state.padEnd(8)}  ${w.label}`).join('\n')
        : `No workspaces in organization ${tenantId}.`,
    );
  },
});

const update = command({
  name: 'update',
  summary: 'rename a workspace or change its settings',
  positional: WORKSPACE_ID,
  flags: {
    tenant: TENANT,
    label: { ...LABEL, description: 'a new name' },
    'logo-url': LOGO_URL,
    'no-logo': { type: 'boolean', description: 'remove the logo' },
    'retention-days': RETENTION_DAYS,
  },
  async run({ values, positional }, out) {
    if (values['logo-url'] !== undefined && values['no-logo'])
      throw new UsageError('give one of --logo-url and --no-logo');
    const changes: WorkspaceChanges = {
      label: values.label,
      logoUrl: values['no-logo'] ? null : values['logo-url'],
      dataSubjectArchivedRetentionDays: retention(values['retention-days']),
    };
    if (Object.values(changes).every((v) => v === undefined))
      throw new UsageError('nothing to change; run gatehouse workspaces update --help');
    await change(out, values.tenant, positional, changes);
  },
});

const archive = command({
  name: 'archive',
  summary: 'archive a workspace: still listed and readable, its data cannot change',
  positional: WORKSPACE_ID,
  flags: { tenant: TENANT },
  run: ({ values, positional }, out) => change(out, values.tenant, positional, { state: 'Archived' }),
});

const restore = command({
  name: 'restore',
  summary: 'make an archived workspace active again',
  positional: WORKSPACE_ID,
  flags: { tenant: TENANT },
  run: ({ values, positional }, out) => change(out, values.tenant, positional, { state: 'Active' }),
});

/** `gatehouse workspaces ...`: the workspaces of an organization. */
export const workspaces = group({
  name: 'workspaces',
  summary: 'the workspaces of an organization',
  subcommands: [list, create, update, archive, restore],
});
