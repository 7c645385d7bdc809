import { CLI_ACTOR } from '../../domain/audit.ts';
import { createTenant, initialize, type NewTenant } from '../../domain/tenants.ts';
import { parse, required } from '../args.ts';
import { withStorage } from '../context.ts';
import { type Output, UsageError } from '../output.ts';

function describe(created: { tenantId: number; workspaceId: number | null; userId: number }): string {
  return [
    `Organization ${created.tenantId} created, owner user ${created.userId}` +
      (created.workspaceId ? `, workspace ${created.workspaceId}.` : '.'),
    'Next: create an API key for it:',
    `  npx gatehouse keys create --tenant ${created.tenantId} --label "My first key"`,
  ].join('\n');
}

/** The password from the flag, or from GATEHOUSE_INIT_PASSWORD so that it stays out of shell history. */
function password(flag: string | undefined, name: string): string {
  const value = flag ?? process.env.GATEHOUSE_INIT_PASSWORD;
  return required(value, `${name} (or GATEHOUSE_INIT_PASSWORD)`);
}

/** `gatehouse init`: the first organization, its owner and first workspace. */
export async function init(args: string[], out: Output): Promise<void> {
  const { values } = parse(args, {
    email: { type: 'string' },
    password: { type: 'string' },
    organization: { type: 'string' },
    workspace: { type: 'string' },
  });
  const input: NewTenant = {
    label: required(values.organization, 'organization'),
    ownerEmail: required(values.email, 'email'),
    ownerPassword: password(values.password, 'password'),
    workspace: values.workspace ?? 'Main',
  };
  const created = await withStorage((storage) => initialize(storage.db, input, CLI_ACTOR));
  out.result(created, () => describe(created));
}

/** `gatehouse tenants create`: a further organization with its owner. */
export async function tenants(args: string[], out: Output): Promise<void> {
  const [sub, ...rest] = args;
  if (sub !== 'create')
    throw new UsageError(
      'usage: gatehouse tenants create --label L --owner-email E --owner-password P [--workspace W]',
    );
  const { values } = parse(rest, {
    label: { type: 'string' },
    'owner-email': { type: 'string' },
    'owner-password': { type: 'string' },
    workspace: { type: 'string' },
  });
  const input: NewTenant = {
    label: required(values.label, 'label'),
    ownerEmail: required(values['owner-email'], 'owner-email'),
    ownerPassword: password(values['owner-password'], 'owner-password'),
    workspace: values.workspace,
  };
  const created = await withStorage((storage) => createTenant(storage.db, input, CLI_ACTOR));
  out.result(created, () => describe(created));
}
