/**
 * `npm run bench:console`: how fast the console's pages answer in a large organization (1,000 keys,
 * 1,000 workspaces, 2,000 audit events), on SQLite and PostgreSQL, against the bundle `npm start` runs.
 * One connection, requests one after the other, for a few seconds per page: the latency a person
 * sees, not throughput. The target is under 50 ms per page.
 */
import { createApiKey } from '../packages/server/src/domain/api-keys.ts';
import { CLI_ACTOR } from '../packages/server/src/domain/audit.ts';
import { generatePrivateKey, generatePublicKey } from '../packages/server/src/domain/key-format.ts';
import { hashSecret } from '../packages/server/src/domain/secrets.ts';
import { createTenant } from '../packages/server/src/domain/tenants.ts';
import { migrate, openStorage } from '../packages/server/src/storage/database.ts';
import { insertApiKey } from '../packages/server/src/storage/repositories/api-keys.ts';
import { insertAuditEvent } from '../packages/server/src/storage/repositories/audit.ts';
import { insertWorkspace } from '../packages/server/src/storage/repositories/workspaces.ts';
import { inTransaction } from '../packages/server/src/storage/transaction.ts';
import { createBenchDatabase } from './database.ts';
import { runLoad } from './load.ts';
import type { DbKind } from './options.ts';
import { startGatehouse } from './server.ts';

const SIZE = 1000;
const SECONDS = Number(process.env.BENCH_CONSOLE_SECONDS ?? 3);
const EMAIL = 'owner@console.bench';
const PASSWORD = 'bench-owner-password-not-secret';
const POSTGRES = process.env.GATEHOUSE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const log = (line: string) => process.stdout.write(`${line}\n`);

async function seed(url: string): Promise<{ tenantId: number; publicKey: string }> {
  const storage = openStorage(url, { poolSize: 2 });
  try {
    await migrate(storage);
    const { db } = storage;
    const tenant = await createTenant(
      db,
      { label: 'Console bench', ownerEmail: EMAIL, ownerPassword: PASSWORD, workspace: 'Main' },
      CLI_ACTOR,
    );
    const key = await createApiKey(db, { tenantId: tenant.tenantId, label: 'Main key' }, CLI_ACTOR);
    const now = Date.now();
    await inTransaction(db, async (trx) => {
      for (let i = 1; i < SIZE; i++) {
        await insertWorkspace(
          trx,
          tenant.tenantId,
          { label: `Workspace ${String(i).padStart(4, '0')}` },
          now,
        );
        const privateKey = generatePrivateKey();
        await insertApiKey(
          trx,
          {
            tenantId: tenant.tenantId,
            workspaceId: null,
            label: `Key ${String(i).padStart(4, '0')}`,
            publicKey: generatePublicKey(),
            redirectUris: ['https://app.example/callback'],
            corsOrigins: ['https://app.example'],
            expiresAt: null,
            createdBy: 'user:1',
            permissions: 'write',
          },
          { hash: hashSecret(privateKey), last4: privateKey.slice(-4) },
          now - i * 60_000,
        );
      }
      for (let i = 0; i < 2 * SIZE; i++)
        await insertAuditEvent(
          trx,
          {
            tenantId: tenant.tenantId,
            actor: 'user:1',
            action: 'api_key.updated',
            target: `key ${i}`,
            ip: '127.0.0.1',
          },
          now - i * 1000,
        );
    });
    return { tenantId: tenant.tenantId, publicKey: key.key.publicKey };
  } finally {
    await storage.close();
  }
}

/** The cookies a response sets, as a Cookie header. */
function cookiesOf(res: Response, jar: Map<string, string>): string {
  for (const line of res.headers.getSetCookie()) {
    const [pair = ''] = line.split(';');
    const at = pair.indexOf('=');
    jar.set(pair.slice(0, at), pair.slice(at + 1));
  }
  return [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
}

async function signIn(origin: string): Promise<string> {
  const jar = new Map<string, string>();
  const page = await fetch(`${origin}/console/sign-in`);
  const cookie = cookiesOf(page, jar);
  const csrf = /name="csrf_token" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
  const res = await fetch(`${origin}/console/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', origin },
    body: new URLSearchParams({ csrf_token: csrf, email: EMAIL, password: PASSWORD, return_to: '/' }),
  });
  if (res.status !== 303) throw new Error(`sign-in failed: ${res.status}`);
  return cookiesOf(res, jar);
}

async function measure(kind: DbKind): Promise<void> {
  const database = await createBenchDatabase(kind, POSTGRES);
  try {
    const { tenantId, publicKey } = await seed(database.url);
    const server = await startGatehouse(database.url);
    try {
      const cookie = await signIn(server.origin);
      const o = `/o/${tenantId}`;
      const pages = [
        ['API keys, first page', `${o}/api-keys`],
        ['API keys, page 20', `${o}/api-keys?page=20`],
        ['API keys, search', `${o}/api-keys?q=key%2009&status=active`],
        ['New key (1,000 workspaces to choose from)', `${o}/api-keys/new`],
        ['Key page (usage chart)', `${o}/api-keys/${publicKey}`],
        ['Workspaces, page 20', `${o}/workspaces?page=20`],
        ['Members', `${o}/members`],
        ['Audit log, page 40', `${o}/audit?page=40`],
        ['Account', '/console'],
      ] as const;
      log(
        `\n${kind}: ${SIZE.toLocaleString('en')} keys, ${SIZE.toLocaleString('en')} workspaces, ${(2 * SIZE).toLocaleString('en')} audit events`,
      );
      for (const [label, path] of pages) {
        const sample = await runLoad(
          { origin: server.origin, path, headers: { cookie } },
          { connections: 1, pipelining: 1, duration: SECONDS, serverPid: server.child.pid },
        );
        const verdict = sample.errors ? `ERRORS ${sample.errors}` : sample.p99 < 50 ? 'ok' : 'SLOW';
        log(
          `${label.padEnd(44)} p50 ${sample.p50.toFixed(1).padStart(6)} ms  p99 ${sample.p99.toFixed(1).padStart(6)} ms  ${Math.round(sample.rps).toString().padStart(5)} req/s  ${verdict}`,
        );
      }
    } finally {
      await server.stop();
    }
  } finally {
    await database.drop();
  }
}

for (const kind of (process.env.BENCH_CONSOLE_DB ?? 'sqlite,postgres').split(',') as DbKind[])
  await measure(kind);
