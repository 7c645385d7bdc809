import { CLI_ACTOR } from '../../domain/audit.ts';
import { addMember } from '../../domain/users.ts';
import { parse, positiveInt, required } from '../args.ts';
import { withStorage } from '../context.ts';
import { type Output, UsageError } from '../output.ts';

const USAGE =
  'usage: gatehouse users create --tenant ID --email E [--password P] --role owner|admin|member ' +
  '[--workspace ID]... [--display-name NAME]';

/**
 * `gatehouse users create`: adds a user to an organization. An email that already has an account
 * (in another organization) is added as a member and keeps its own password; the password, from
 * --password or GATEHOUSE_USER_PASSWORD (out of shell history), is needed for new accounts only.
 */
export async function users(args: string[], out: Output): Promise<void> {
  const [sub, ...rest] = args;
  if (sub !== 'create') throw new UsageError(USAGE);
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
  const view = {
    id: added.user.id,
    email: added.user.email,
    displayName: added.user.displayName,
    tenantId: added.tenantId,
    role: added.role,
    workspaceIds: added.workspaceIds,
    created: added.created,
  };
  out.result(view, () =>
    added.created
      ? `User ${view.id} <${view.email}> created as ${view.role} of organization ${view.tenantId}.`
      : `Existing user ${view.id} <${view.email}> added as ${view.role} of organization ${view.tenantId}; ` +
        'their password is unchanged.',
  );
}
