import { findRefreshToken } from '../../packages/server/src/domain/refresh-tokens.ts';
import { openStorage } from '../../packages/server/src/storage/database.ts';
import { basicHeader } from '../tokens.ts';
import type { Http } from './http.ts';
import type { Ledger } from './ledger.ts';
import type { SoakClient, SoakSeed } from './seed.ts';

/** One "nothing lost" check: what it asserts, whether it held, and the figures behind it. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

const admin = (key: SoakClient) => ({ 'x-api-key': key.privateKey });

/** Every item of a paged admin list (size 500, the maximum), or null when a page did not answer 200. */
async function listAll<T>(
  http: Http,
  kind: 'checkKeys' | 'checkWorkspaces',
  path: string,
  key: SoakClient,
): Promise<{ items: T[]; total: number } | null> {
  const items: T[] = [];
  for (let page = 1; ; page++) {
    const answer = await http.send(kind, `${path}?page=${page}&size=500`, {
      headers: admin(key),
      paced: false,
    });
    if (answer.status !== 200) return null;
    const body = http.json<{ items: T[]; total: number }>(kind, answer);
    if (!body) return null;
    items.push(...body.items);
    if (items.length >= body.total || body.items.length === 0) return { items, total: body.total };
  }
}

/** The admin API lists every key the soak created, with its last label and its state. */
async function keysListed(http: Http, seed: SoakSeed, ledger: Ledger): Promise<Check> {
  const name = 'every key created (201) is listed by GET /v1/api-keys, with its last label and its state';
  const listed = await listAll<{ publicKey: string; label: string; status: string }>(
    http,
    'checkKeys',
    '/v1/api-keys',
    seed.adminB,
  );
  if (!listed) return { name, ok: false, detail: 'the list did not answer 200' };
  const byKey = new Map(listed.items.map((item) => [item.publicKey, item]));
  const wrong: string[] = [];
  for (const [publicKey, key] of ledger.keys) {
    const item = byKey.get(publicKey);
    if (!item) wrong.push(`${key.label}: missing`);
    else if (item.label !== key.label) wrong.push(`${key.label}: listed as "${item.label}"`);
    else if ((item.status === 'revoked') !== key.revoked) wrong.push(`${key.label}: status ${item.status}`);
  }
  const expected = seed.keysOfB + ledger.acknowledged.keyCreated;
  if (listed.total !== expected) wrong.push(`total ${listed.total}, expected ${expected}`);
  const revoked = [...ledger.keys.values()].filter((k) => k.revoked).length;
  return {
    name,
    ok: wrong.length === 0,
    detail: wrong.length
      ? wrong.slice(0, 5).join('; ')
      : `${ledger.keys.size} keys, ${revoked} of them revoked; total ${listed.total} = ${seed.keysOfB} seeded + ${ledger.acknowledged.keyCreated} created`,
  };
}

/** Every live key works with its last private key: a rotation acknowledged is a rotation applied. */
async function liveKeysWork(http: Http, ledger: Ledger): Promise<Check> {
  const live = [...ledger.keys.values()].filter((k) => !k.revoked);
  let failed = 0;
  for (const key of live) {
    const answer = await http.send('checkKeyWorks', '/me', {
      headers: { 'x-api-key': key.privateKey },
      paced: false,
    });
    if (answer.status !== 200) failed++;
  }
  return {
    name: 'every key not revoked answers GET /me with its last private key (after its rotation)',
    ok: failed === 0,
    detail: failed ? `${failed} of ${live.length} refused` : `${live.length} of ${live.length} answered 200`,
  };
}

async function workspacesListed(http: Http, seed: SoakSeed, ledger: Ledger): Promise<Check> {
  const name = 'every workspace created (201) is listed by GET /v1/workspaces, with its last label';
  const listed = await listAll<{ id: number; label: string }>(
    http,
    'checkWorkspaces',
    '/v1/workspaces',
    seed.adminB,
  );
  if (!listed) return { name, ok: false, detail: 'the list did not answer 200' };
  const byId = new Map(listed.items.map((item) => [item.id, item.label]));
  const wrong: string[] = [];
  for (const [id, label] of ledger.workspaces)
    if (byId.get(id) !== label) wrong.push(`${id}: ${byId.get(id) ?? 'missing'}, expected "${label}"`);
  const expected = seed.workspacesOfB + ledger.acknowledged.workspaceCreated;
  if (listed.total !== expected) wrong.push(`total ${listed.total}, expected ${expected}`);
  return {
    name,
    ok: wrong.length === 0,
    detail: wrong.length
      ? wrong.slice(0, 5).join('; ')
      : `${ledger.workspaces.size} workspaces (${ledger.acknowledged.workspaceRenamed} renames); total ${listed.total}`,
  };
}

/** The audit log holds exactly one event per acknowledged change, by the actor that made it. */
async function audited(http: Http, seed: SoakSeed, ledger: Ledger): Promise<Check> {
  const a = ledger.acknowledged;
  const expectations: [SoakClient, string, string | null, number][] = [
    [seed.adminB, 'api_key.created', seed.adminB.publicKey, a.keyCreated],
    [seed.adminB, 'api_key.updated', seed.adminB.publicKey, a.keyPatched],
    [seed.adminB, 'api_key.rotated', seed.adminB.publicKey, a.keyRotated],
    [seed.adminB, 'api_key.revoked', seed.adminB.publicKey, a.keyRevoked],
    [seed.adminB, 'workspace.created', seed.adminB.publicKey, a.workspaceCreated],
    [seed.adminB, 'workspace.updated', seed.adminB.publicKey, a.workspaceRenamed],
    [seed.adminA, 'api_key.rotated', seed.adminA.publicKey, a.poolRotated],
    [seed.adminA, 'refresh_token.revoked', null, a.familiesRevoked],
  ];
  const found: string[] = [];
  let ok = true;
  for (const [key, action, actor, expected] of expectations) {
    const query = new URLSearchParams({
      page: '1',
      size: '1',
      action,
      ...(actor ? { actor: `key:${actor}` } : {}),
    });
    const answer = await http.send('checkAudit', `/v1/audit-events?${query}`, {
      headers: admin(key),
      paced: false,
    });
    const total =
      answer.status === 200 ? http.json<{ total: number }>('checkAudit', answer)?.total : undefined;
    if (total !== expected) ok = false;
    found.push(`${action} ${total ?? '?'}${total === expected ? '' : ` (expected ${expected})`}`);
  }
  return {
    name: 'the audit log has exactly one event per change acknowledged (2xx), by its actor',
    ok,
    detail: found.join(', '),
  };
}

/** Revoked access tokens introspect inactive; a sample of never-revoked ones still introspects active. */
async function revokedInactive(http: Http, ledger: Ledger): Promise<Check> {
  let active = 0;
  for (const held of ledger.revokedAccess) {
    const answer = await http.send('checkIntrospect', '/connect/introspect', {
      headers: { authorization: basicHeader(held.client) },
      form: { token: held.token },
      paced: false,
    });
    if (answer.status !== 200 || http.json<{ active?: boolean }>('checkIntrospect', answer)?.active !== false)
      active++;
  }
  let inactive = 0;
  for (const held of ledger.liveSample) {
    const answer = await http.send('checkIntrospect', '/connect/introspect', {
      headers: { authorization: basicHeader(held.client) },
      form: { token: held.token },
      paced: false,
    });
    if (answer.status !== 200 || http.json<{ active?: boolean }>('checkIntrospect', answer)?.active !== true)
      inactive++;
  }
  return {
    name: 'every access token revoked (directly or with its grant) introspects inactive; live ones still active',
    ok: active === 0 && inactive === 0,
    detail:
      `${ledger.revokedAccess.length - active} of ${ledger.revokedAccess.length} revoked tokens inactive; ` +
      `${ledger.liveSample.length - inactive} of ${ledger.liveSample.length} live tokens active`,
  };
}

/** In the database: revoked grants revoked, rotated refresh tokens rotated, live ones current; row counts. */
async function database(url: string, seed: SoakSeed, ledger: Ledger): Promise<Check> {
  const storage = openStorage(url, { poolSize: 1 });
  const wrong: string[] = [];
  let superseded = 0;
  try {
    for (const token of ledger.revokedRefresh)
      if (!(await findRefreshToken(storage.db, token))?.revokedAt)
        wrong.push('a revoked grant is not revoked');
    for (const family of ledger.families) {
      const latest = await findRefreshToken(storage.db, family.refresh);
      if (!latest || latest.revokedAt !== null || latest.rotatedAt !== null)
        wrong.push('a live grant has no current refresh token');
      for (const token of family.superseded) {
        superseded++;
        if (!(await findRefreshToken(storage.db, token))?.rotatedAt)
          wrong.push('a rotated refresh token is current');
      }
    }
    const db = storage.db;
    const n = (row: { n: number | string | bigint } | undefined) => Number(row?.n ?? Number.NaN);
    const keys = db
      .selectFrom('api_keys')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant_id', '=', seed.tenantB);
    const a = ledger.acknowledged;
    const rows = {
      keys: n(await keys.executeTakeFirst()),
      revoked: n(await keys.where('revoked_at', 'is not', null).executeTakeFirst()),
      workspaces: n(
        await db
          .selectFrom('workspaces')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('tenant_id', '=', seed.tenantB)
          .executeTakeFirst(),
      ),
    };
    if (rows.keys !== seed.keysOfB + a.keyCreated) wrong.push(`${rows.keys} key rows`);
    if (rows.revoked !== a.keyRevoked) wrong.push(`${rows.revoked} revoked key rows`);
    if (rows.workspaces !== seed.workspacesOfB + a.workspaceCreated)
      wrong.push(`${rows.workspaces} workspace rows`);
    return {
      name: 'the database agrees: row counts, revoked grants revoked, rotated refresh tokens rotated, live ones current',
      ok: wrong.length === 0,
      detail: wrong.length
        ? [...new Set(wrong)].slice(0, 5).join('; ')
        : `tenant B: ${rows.keys} key rows (${rows.revoked} revoked), ${rows.workspaces} workspace rows; ` +
          `${ledger.revokedRefresh.length} revoked grants, ${ledger.families.length} live grants, ${superseded} rotated refresh tokens`,
    };
  } finally {
    await storage.close();
  }
}

/** Runs every check against the server (still running) and its database. */
export async function verify(
  http: Http,
  databaseUrl: string,
  seed: SoakSeed,
  ledger: Ledger,
): Promise<Check[]> {
  return [
    await keysListed(http, seed, ledger),
    await liveKeysWork(http, ledger),
    await workspacesListed(http, seed, ledger),
    await audited(http, seed, ledger),
    await revokedInactive(http, ledger),
    await database(databaseUrl, seed, ledger),
  ];
}
