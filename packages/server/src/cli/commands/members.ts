import { loadConfig } from '../../config/config.ts';
import { CLI_ACTOR } from '../../domain/audit.ts';
import { addMember, listTenantMembers, removeMember, updateMember } from '../../domain/members.ts';
import { NO_LOCAL_DENYLIST } from '../../domain/revocations.ts';
import { signInLinkUrl } from '../../domain/sign-in-links.ts';
import { requireTenant } from '../../domain/tenants.ts';
import { hasAccount } from '../../domain/users.ts';
import { allPages, positiveId, positiveInt } from '../args.ts';
import { withStorage } from '../context.ts';
import { ROLE, SEARCH, TENANT } from '../flags.ts';
import { UsageError } from '../output.ts';
import { askNewPassword, canPrompt } from '../prompt.ts';
import { command, group } from '../spec.ts';

const iso = (ms: number) => new Date(ms).toISOString();

const WORKSPACES = {
  type: 'string',
  value: 'ID',
  multiple: true,
  description: 'limit a member to this workspace (repeat for several)',
} as const;

/**
 * `members add` (and `users create`): an existing account joins as it is and keeps its password; a new
 * one takes the password from --password or GATEHOUSE_USER_PASSWORD (out of shell history), or from the
 * terminal, or else gets a one-time sign-in link, printed once.
 */
export const add = command({
  name: 'add',
  summary: 'add a person to the organization (a new account, or an existing one as it is)',
  flags: {
    tenant: TENANT,
    email: { type: 'string', value: 'EMAIL', required: true, description: 'their email (their sign-in)' },
    role: { ...ROLE, required: true },
    password: { type: 'string', value: 'P', description: "a new account's password" },
    workspace: WORKSPACES,
    'display-name': {
      type: 'string',
      value: 'NAME',
      description: 'the name pages show instead of the email',
    },
  },
  notes: [
    'A new account without a password (--password, GATEHOUSE_USER_PASSWORD, or typed when a terminal asks)',
    'gets a one-time sign-in link instead, printed once.',
  ],
  async run({ values }, out) {
    const tenantId = positiveInt(values.tenant, 'tenant');
    const workspaceIds = (values.workspace ?? []).map((w) => positiveInt(w, 'workspace'));
    const added = await withStorage(out, async ({ db }) => {
      let password = values.password ?? process.env.GATEHOUSE_USER_PASSWORD;
      if (password === undefined && canPrompt()) {
        await requireTenant(db, tenantId);
        if (!(await hasAccount(db, values.email)))
          password =
            (await askNewPassword(
              `Password for ${values.email} (leave empty to print a one-time sign-in link instead)`,
            )) || undefined;
      }
      const input = {
        tenantId,
        email: values.email,
        password,
        role: values.role,
        workspaceIds,
        displayName: values['display-name'] ?? null,
      };
      return addMember(db, input, CLI_ACTOR);
    });
    const link = added.signInToken && signInLinkUrl(loadConfig().issuer, added.signInToken);
    const view = {
      id: added.user.id,
      email: added.user.email,
      displayName: added.user.displayName,
      tenantId: added.tenantId,
      role: added.role,
      workspaceIds: added.workspaceIds,
      created: added.created,
      ...(link ? { signInLink: link } : {}),
    };
    out.result(view, () =>
      [
        added.created
          ? `User ${view.id} <${view.email}> created as ${view.role} of organization ${view.tenantId}.`
          : `Existing user ${view.id} <${view.email}> added as ${view.role} of organization ${view.tenantId}; ` +
            'their password is unchanged.',
        ...(link ? [`One-time sign-in link (24 h, shown only now): ${link}`] : []),
      ].join('\n'),
    );
  },
});

export const list = command({
  name: 'list',
  summary: 'the members of an organization, with their roles',
  flags: { tenant: TENANT, search: SEARCH },
  async run({ values }, out) {
    const tenantId = positiveInt(values.tenant, 'tenant');
    const found = await withStorage(out, async ({ db }) => {
      await requireTenant(db, tenantId);
      return allPages((page) => listTenantMembers(db, tenantId, { page, size: 500, q: values.search }));
    });
    const items = found.map((m) => ({ ...m, createdAt: iso(m.createdAt) }));
    out.result({ items, total: items.length }, () =>
      items.length
        ? items.map((m) => `${String(m.id).padStart(6)}  ${m.role.padEnd(6)}  ${m.email}`).join('\n')
        : `No members in organization ${tenantId}.`,
    );
  },
});

const USER_ID = { name: 'USER_ID', description: 'the member, by id (gatehouse members list)' } as const;

const update = command({
  name: 'update',
  summary: "change a member's role or workspaces",
  positional: USER_ID,
  flags: {
    tenant: TENANT,
    role: ROLE,
    workspace: WORKSPACES,
    'all-workspaces': { type: 'boolean', description: 'lift the workspace limit' },
  },
  async run({ values, positional }, out) {
    const tenantId = positiveInt(values.tenant, 'tenant');
    const userId = positiveId(positional, 'USER_ID');
    const workspaceIds = values['all-workspaces']
      ? []
      : values.workspace?.map((w) => positiveInt(w, 'workspace'));
    const changes = { role: values.role, workspaceIds };
    if (changes.role === undefined && changes.workspaceIds === undefined)
      throw new UsageError('nothing to change: give --role, --workspace or --all-workspaces');
    const member = await withStorage(out, ({ db }) => updateMember(db, tenantId, userId, changes, CLI_ACTOR));
    out.result(
      { ...member, createdAt: iso(member.createdAt) },
      () => `User ${userId} is now ${member.role}.`,
    );
  },
});

const remove = command({
  name: 'remove',
  summary: 'remove a member, with their sessions and tokens',
  positional: USER_ID,
  flags: { tenant: TENANT },
  async run({ values, positional }, out) {
    const tenantId = positiveInt(values.tenant, 'tenant');
    const userId = positiveId(positional, 'USER_ID');
    // This process serves no tokens: the servers learn of the revoked ones by polling.
    await withStorage(out, ({ db }) => removeMember(db, NO_LOCAL_DENYLIST, tenantId, userId, CLI_ACTOR));
    out.result(
      { id: userId, tenantId, removed: true },
      () => `User ${userId} removed from organization ${tenantId}.`,
    );
  },
});

export const members = group({
  name: 'members',
  summary: 'the people of an organization and their roles',
  subcommands: [list, add, update, remove],
});
