import { loadConfig } from '../../config/config.ts';
import { CLI_ACTOR } from '../../domain/audit.ts';
import { addMember, listTenantMembers, removeMember, updateMember } from '../../domain/members.ts';
import { NO_LOCAL_DENYLIST } from '../../domain/revocations.ts';
import { signInLinkUrl } from '../../domain/sign-in-links.ts';
import { allPages, onePositional, parse, positiveInt, required } from '../args.ts';
import { withStorage } from '../context.ts';
import { type Output, UsageError } from '../output.ts';

const USAGE = `usage:
  gatehouse members list --tenant ID [--search TEXT]
  gatehouse members add --tenant ID --email E --role owner|admin|member [--password P] [--workspace ID]... [--display-name N]
  gatehouse members update USER_ID --tenant ID [--role R] [--workspace ID]... [--all-workspaces]
  gatehouse members remove USER_ID --tenant ID`;

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * `gatehouse members add` (and `users create`): an existing account joins as it is and keeps its
 * password; a new one takes the password from --password or GATEHOUSE_USER_PASSWORD (out of shell
 * history), or else gets a one-time sign-in link, printed once.
 */
export async function addMemberCommand(rest: string[], out: Output): Promise<void> {
  const { values } = parse(rest, {
    tenant: { type: 'string' },
    email: { type: 'string' },
    password: { type: 'string' },
    role: { type: 'string' },
    workspace: { type: 'string', multiple: true },
    'display-name': { type: 'string' },
  });
  const input = {
    tenantId: positiveInt(values.tenant, 'tenant'),
    email: required(values.email, 'email'),
    password: values.password ?? process.env.GATEHOUSE_USER_PASSWORD,
    role: required(values.role, 'role'),
    workspaceIds: (values.workspace ?? []).map((w) => positiveInt(w, 'workspace')),
    displayName: values['display-name'] ?? null,
  };
  const added = await withStorage((storage) => addMember(storage.db, input, CLI_ACTOR));
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
}

/** `gatehouse members ...`: the people of an organization and their roles. */
export async function members(args: string[], out: Output): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'add') return addMemberCommand(rest, out);
  const { values, positionals } = parse(rest, {
    tenant: { type: 'string' },
    search: { type: 'string' },
    role: { type: 'string' },
    workspace: { type: 'string', multiple: true },
    'all-workspaces': { type: 'boolean' },
  });
  const tenantId = positiveInt(values.tenant, 'tenant');
  if (sub === 'list') {
    const found = await withStorage((storage) =>
      allPages((page) => listTenantMembers(storage.db, tenantId, { page, size: 500, q: values.search })),
    );
    const items = found.map((m) => ({ ...m, createdAt: iso(m.createdAt) }));
    out.result({ items, total: items.length }, () =>
      items.length
        ? items.map((m) => `${String(m.id).padStart(6)}  ${m.role.padEnd(6)}  ${m.email}`).join('\n')
        : `No members in organization ${tenantId}.`,
    );
    return;
  }
  if (sub !== 'update' && sub !== 'remove') throw new UsageError(USAGE);
  const userId = positiveInt(onePositional(positionals, 'user id', USAGE), 'user id');
  if (sub === 'remove') {
    // This process serves no tokens: the servers learn of the revoked ones by polling.
    await withStorage((storage) => removeMember(storage.db, NO_LOCAL_DENYLIST, tenantId, userId, CLI_ACTOR));
    out.result(
      { id: userId, tenantId, removed: true },
      () => `User ${userId} removed from organization ${tenantId}.`,
    );
    return;
  }
  const workspaceIds = values['all-workspaces']
    ? []
    : values.workspace?.map((w) => positiveInt(w, 'workspace'));
  const changes = { role: values.role, workspaceIds };
  if (changes.role === undefined && changes.workspaceIds === undefined)
    throw new UsageError(`nothing to change\n${USAGE}`);
  const member = await withStorage((storage) =>
    updateMember(storage.db, tenantId, userId, changes, CLI_ACTOR),
  );
  out.result({ ...member, createdAt: iso(member.createdAt) }, () => `User ${userId} is now ${member.role}.`);
}
