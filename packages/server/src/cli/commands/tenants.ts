import { CLI_ACTOR } from '../../domain/audit.ts';
import {
  type CreatedTenant,
  createTenant,
  initialize,
  listTenants,
  type NewTenant,
  refuseIfInitialized,
} from '../../domain/tenants.ts';
import { hasAccount } from '../../domain/users.ts';
import type { Db } from '../../storage/transaction.ts';
import { withStorage } from '../context.ts';
import { iso } from '../flags.ts';
import { UsageError } from '../output.ts';
import { askNewPassword, canPrompt } from '../prompt.ts';
import { command, group } from '../spec.ts';

function describe(created: CreatedTenant): string {
  return [
    `Organization ${created.tenantId} created, owner user ${created.userId}` +
      (created.workspaceId ? `, workspace ${created.workspaceId}.` : '.'),
    'Next: create an API key for it:',
    `  npx gatehouse keys create --tenant ${created.tenantId} --label "My first key"`,
  ].join('\n');
}

const PASSWORD_NOTE =
  'The password may also come from GATEHOUSE_INIT_PASSWORD (out of shell history); without either, a terminal asks for it.';

/**
 * The owner's password: from the flag, else GATEHOUSE_INIT_PASSWORD (out of shell history), else typed
 * at the terminal. Without a terminal it must be given: the usage error says how.
 */
function givenPassword(flag: string | undefined, name: string): string | undefined {
  const value = flag ?? process.env.GATEHOUSE_INIT_PASSWORD;
  if (value === undefined && !canPrompt())
    throw new UsageError(
      `the owner needs a password: pass --${name} P or set GATEHOUSE_INIT_PASSWORD, or run the command in a terminal to be asked for it`,
    );
  return value;
}

/** Asks for the owner's password when none was given, unless the owner already has an account (and keeps it). */
async function ownerPassword(db: Db, given: string | undefined, email: string): Promise<string> {
  if (given !== undefined) return given;
  if (await hasAccount(db, email)) return '';
  return askNewPassword(`Password for ${email}`);
}

export const init = command({
  name: 'init',
  summary: 'create the first organization, its owner and a workspace (on an empty database)',
  flags: {
    email: {
      type: 'string',
      value: 'EMAIL',
      required: true,
      description: "the owner's email (their sign-in)",
    },
    organization: { type: 'string', value: 'NAME', required: true, description: 'the organization name' },
    password: { type: 'string', value: 'P', description: "the owner's password (12 characters or more)" },
    workspace: { type: 'string', value: 'NAME', description: 'the first workspace (default: Main)' },
  },
  notes: [PASSWORD_NOTE, 'It creates the database if there is none.'],
  async run({ values }, out) {
    const given = givenPassword(values.password, 'password');
    const created = await withStorage(
      out,
      async ({ db }) => {
        // Before asking for a password that could not be used.
        await refuseIfInitialized(db);
        const input: NewTenant = {
          label: values.organization,
          ownerEmail: values.email,
          ownerPassword: await ownerPassword(db, given, values.email),
          workspace: values.workspace ?? 'Main',
        };
        return initialize(db, input, CLI_ACTOR);
      },
      { create: true },
    );
    out.result(created, () => describe(created));
  },
});

const create = command({
  name: 'create',
  summary: 'add an organization with its owner',
  flags: {
    label: { type: 'string', value: 'NAME', required: true, description: 'the organization name' },
    'owner-email': {
      type: 'string',
      value: 'EMAIL',
      required: true,
      description: "the owner's email; an existing account becomes owner and keeps its password",
    },
    'owner-password': { type: 'string', value: 'P', description: "a new owner's password" },
    workspace: { type: 'string', value: 'NAME', description: 'a first workspace (default: none)' },
  },
  notes: [PASSWORD_NOTE],
  async run({ values }, out) {
    const given = givenPassword(values['owner-password'], 'owner-password');
    const created = await withStorage(out, async ({ db }) => {
      const input: NewTenant = {
        label: values.label,
        ownerEmail: values['owner-email'],
        ownerPassword: await ownerPassword(db, given, values['owner-email']),
        workspace: values.workspace,
      };
      return createTenant(db, input, CLI_ACTOR);
    });
    out.result(created, () => describe(created));
  },
});

const list = command({
  name: 'list',
  summary: 'every organization, with its id',
  flags: {},
  async run(_input, out) {
    const tenants = await withStorage(out, ({ db }) => listTenants(db));
    const items = tenants.map((t) => ({ id: t.id, label: t.label, createdAt: iso(t.createdAt) }));
    out.result({ items, total: items.length }, () =>
      items.length
        ? items.map((t) => `${String(t.id).padStart(6)}  ${t.label}`).join('\n')
        : 'No organization yet: create the first with gatehouse init.',
    );
  },
});

export const tenants = group({
  name: 'tenants',
  summary: 'organizations',
  subcommands: [list, create],
});
