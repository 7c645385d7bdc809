import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { calculateJwkThumbprint } from 'jose';
import { Migrator } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { CLI_ACTOR } from '../../src/domain/audit.ts';
import { KeyDecryptionError, open, seal } from '../../src/domain/key-encryption.ts';
import {
  describeSigningKeys,
  ensureSigningKey,
  PUBLICATION_MARGIN_MS,
  rotateSigningKey,
} from '../../src/domain/signing-keys.ts';
import type { Storage } from '../../src/storage/database.ts';
import { migrations } from '../../src/storage/migrations/index.ts';
import { CLI } from '../helpers/cli.ts';
import { releaseMany } from '../helpers/concurrent.ts';
import { useSeededApp } from '../helpers/seeded-app.ts';
import { describeEachDialect, openTestStorage, testConfig } from '../helpers/test-app.ts';
import { decodePart, OAUTH_ENV, tokenFor } from './oauth-helpers.ts';

const SECRET = testConfig().secret;

interface Jwk {
  kid: string;
  kty: string;
  alg: string;
}

/** Applies the migrations before OpenID Connect (001 to 006): the database of a Gatehouse before the upgrade. */
async function migrateBeforeOpenIdConnect(storage: Storage): Promise<void> {
  const earlier = Object.entries(migrations).filter(([name]) => name < '007');
  const migrator = new Migrator({
    db: storage.db,
    provider: {
      getMigrations: async () =>
        Object.fromEntries(earlier.map(([name, m]) => [name, { up: (db) => m.up(db, storage.dialect) }])),
    },
    ...(storage.schema ? { migrationTableSchema: storage.schema } : {}),
  });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error;
}

/** The one ES256 key a Gatehouse before OpenID Connect had made, as it wrote it. */
async function insertLegacyEs256Key(storage: Storage): Promise<string> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { crv = '', x = '', y = '' } = publicKey.export({ format: 'jwk' });
  const kid = await calculateJwkThumbprint({ kty: 'EC', crv, x, y });
  // The columns did not change in 007: only the uniqueness of `active` did.
  await storage.db
    .insertInto('signing_keys')
    .values({
      kid,
      alg: 'ES256',
      public_jwk: JSON.stringify({ kty: 'EC', crv, x, y, kid, alg: 'ES256', use: 'sig' }),
      private_jwk_encrypted: seal(SECRET, kid, JSON.stringify(privateKey.export({ format: 'jwk' }))),
      active: 1,
      created_at: Date.now() - 86_400_000,
    })
    .execute();
  return kid;
}

describeEachDialect('signing keys', (dialect) => {
  const ctx = useSeededApp(dialect, OAUTH_ENV);

  const me = (target: FastifyInstance, token: string) =>
    target.inject({ method: 'GET', url: '/me', headers: { authorization: `Bearer ${token}` } });
  const jwks = async (): Promise<{ keys: Jwk[] }> =>
    (await ctx.app.inject({ url: '/.well-known/openid-configuration/jwks' })).json();

  it('generates one key per algorithm on first start, audited; access tokens are signed ES256', async () => {
    const keys = await describeSigningKeys(ctx.app.services.db, 3600);
    expect(keys.map((k) => [k.alg, k.status]).sort()).toEqual([
      ['ES256', 'active'],
      ['RS256', 'active'],
    ]);
    const es256 = keys.find((k) => k.alg === 'ES256');
    const token = await tokenFor(ctx.app, ctx.seed.orgKeyA);
    expect(decodePart(token, 0)).toMatchObject({ alg: 'ES256', kid: es256?.kid });
    const audit = await ctx.app.services.db
      .selectFrom('audit_events')
      .select(['actor', 'target', 'details'])
      .where('action', '=', 'signing_key.created')
      .execute();
    expect(audit.map((e) => [e.actor, e.target]).sort()).toEqual(keys.map((k) => ['system', k.kid]).sort());
    expect(audit.map((e) => JSON.parse(String(e.details)).alg).sort()).toEqual(['ES256', 'RS256']);
  });

  it('publishes only public parts in the JWKS: one EC key and one RSA key, with distinct kids', async () => {
    const res = await ctx.app.inject({ url: '/.well-known/openid-configuration/jwks' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/jwk-set\+json/);
    const keys: (Jwk & Record<string, string>)[] = res.json().keys;
    const ec = keys.filter((k) => k.kty === 'EC');
    const rsa = keys.filter((k) => k.kty === 'RSA');
    expect([ec.length, rsa.length, keys.length]).toEqual([1, 1, 2]);
    expect(Object.keys(ec[0] ?? {})).toEqual(['kty', 'crv', 'x', 'y', 'kid', 'alg', 'use']);
    expect(ec[0]).toMatchObject({ crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(Object.keys(rsa[0] ?? {})).toEqual(['kty', 'n', 'e', 'kid', 'alg', 'use']);
    expect(rsa[0]).toMatchObject({ e: 'AQAB', alg: 'RS256', use: 'sig' });
    // A 2048-bit modulus: 256 bytes, 342 base64url characters.
    expect(Buffer.from(rsa[0]?.n ?? '', 'base64url')).toHaveLength(256);
    expect(ec[0]?.kid).not.toBe(rsa[0]?.kid);
    // RFC 7638 thumbprints: a kid names exactly its key.
    for (const key of keys) {
      const { kid, alg: _alg, use: _use, ...members } = key;
      expect(await calculateJwkThumbprint(members as Parameters<typeof calculateJwkThumbprint>[0])).toBe(kid);
    }
    expect(res.body).not.toMatch(/"(d|p|q|dp|dq|qi)"/);
  });

  it('never stores a private JWK in clear in the database (DESIGN.md 3 rule 1)', async () => {
    const forms: string[] = [];
    for (const alg of ['ES256', 'RS256'] as const) {
      const jwk = ctx.app.services.keyRing.signer(alg).key.export({ format: 'jwk' });
      for (const part of [jwk.d, jwk.p, jwk.q, jwk.dp, jwk.dq, jwk.qi]) {
        if (part === undefined) continue;
        const bytes = Buffer.from(part, 'base64url');
        forms.push(part, bytes.toString('base64'), bytes.toString('hex'));
      }
    }
    // EC: d; RSA: d, p, q, dp, dq and qi; each in three encodings.
    expect(forms.length).toBe((1 + 6) * 3);
    const rows = await ctx.app.services.db.selectFrom('signing_keys').selectAll().execute();
    expect(rows.length).toBeGreaterThan(1);
    const dump = JSON.stringify(rows);
    for (const form of forms) expect(dump).not.toContain(form);
    for (const row of rows) expect(row.private_jwk_encrypted).toMatch(/^v1\./);
  });

  it('refuses to start with a GATEHOUSE_SECRET that cannot open the stored key', async () => {
    const config = testConfig({ ...OAUTH_ENV, GATEHOUSE_SECRET: 'another-secret-another-secret-another-1' });
    await expect(buildApp(config, { storage: ctx.storage })).rejects.toThrow(/GATEHOUSE_SECRET/);
  });

  it('a second start finds both keys and makes none (ensureSigningKey is idempotent)', async () => {
    const before = (await describeSigningKeys(ctx.app.services.db, 3600)).map((k) => k.kid);
    await ensureSigningKey(ctx.app.services.db, SECRET);
    expect((await describeSigningKeys(ctx.app.services.db, 3600)).map((k) => k.kid)).toEqual(before);
  });

  it('rotation: every algorithm at once, new tokens carry the new kid, old tokens stay valid, all published', async () => {
    const other = await buildApp(testConfig(OAUTH_ENV), { storage: ctx.storage });
    try {
      const before = await tokenFor(ctx.app, ctx.seed.orgKeyA);
      const oldKids = (await jwks()).keys.map((k) => k.kid);
      const oldEs256 = ctx.app.services.keyRing.signer('ES256').kid;
      const oldRs256 = ctx.app.services.keyRing.signer('RS256').kid;
      const rotated = await rotateSigningKey(ctx.app.services.db, SECRET, CLI_ACTOR);
      expect(rotated).toEqual([
        { alg: 'ES256', kid: expect.any(String), previousKid: oldEs256 },
        { alg: 'RS256', kid: expect.any(String), previousKid: oldRs256 },
      ]);
      const newKids = rotated.map((r) => r.kid);
      // The periodic reload, done now rather than waited for.
      await ctx.app.services.keyRing.reload();
      expect(ctx.app.services.keyRing.signer('RS256').kid).toBe(rotated[1]?.kid);
      const after = await tokenFor(ctx.app, ctx.seed.orgKeyA);
      expect(decodePart(after, 0).kid).toBe(rotated[0]?.kid);
      expect((await me(ctx.app, before)).statusCode).toBe(200);
      expect((await me(ctx.app, after)).statusCode).toBe(200);
      // An instance that has not reloaded yet learns the new kid from the first token that names it.
      expect((await me(other, after)).statusCode).toBe(200);
      expect((await jwks()).keys.map((k) => k.kid).sort()).toEqual([...oldKids, ...newKids].sort());
      const statuses = await describeSigningKeys(ctx.app.services.db, 3600);
      expect(statuses.map((k) => [k.alg, k.status]).sort()).toEqual([
        ['ES256', 'active'],
        ['ES256', 'published'],
        ['RS256', 'active'],
        ['RS256', 'published'],
      ]);
      const audit = await ctx.app.services.db
        .selectFrom('audit_events')
        .select(['actor', 'target', 'details'])
        .where('action', '=', 'signing_key.rotated')
        .execute();
      for (const r of rotated) {
        const event = audit.find((e) => e.target === r.kid);
        expect(event?.actor).toBe('cli');
        expect(JSON.parse(String(event?.details))).toEqual({ alg: r.alg, previousKid: r.previousKid });
      }
    } finally {
      await other.close();
    }
  });

  it('rotation of one algorithm leaves the other active key as it was', async () => {
    const es256 = ctx.app.services.keyRing.signer('ES256').kid;
    const [rotated, ...more] = await rotateSigningKey(ctx.app.services.db, SECRET, CLI_ACTOR, ['RS256']);
    expect(more).toEqual([]);
    expect(rotated?.alg).toBe('RS256');
    await ctx.app.services.keyRing.reload();
    expect(ctx.app.services.keyRing.signer('ES256').kid).toBe(es256);
    expect(ctx.app.services.keyRing.signer('RS256').kid).toBe(rotated?.kid);
    const active = (await describeSigningKeys(ctx.app.services.db, 3600)).filter(
      (k) => k.status === 'active',
    );
    expect(active.map((k) => k.kid).sort()).toEqual([es256, rotated?.kid].sort());
  });

  it('a retired key leaves the JWKS once all its tokens have expired, and its tokens are refused', async () => {
    const before = await tokenFor(ctx.app, ctx.seed.orgKeyA);
    const oldKid = String(decodePart(before, 0).kid);
    await rotateSigningKey(ctx.app.services.db, SECRET, CLI_ACTOR);
    const longAgo = Date.now() - ctx.app.services.config.accessTokenTtl * 1000 - PUBLICATION_MARGIN_MS - 1;
    await ctx.app.services.db
      .updateTable('signing_keys')
      .set({ retired_at: longAgo })
      .where('kid', '=', oldKid)
      .execute();
    // On PostgreSQL the rotation's change notification refreshes the ring too, and a refresh that read
    // before the update above may land after this reload: the ring converges at the next one.
    await vi.waitFor(async () => {
      await ctx.app.services.keyRing.reload();
      expect((await jwks()).keys.map((k) => k.kid)).not.toContain(oldKid);
    });
    const res = await me(ctx.app, before);
    expect(res.statusCode).toBe(401);
    expect(res.json().detail).toMatch(/unknown key/);
  });
});

describeEachDialect('signing keys on upgrade and concurrent starts', (dialect) => {
  let storage: Storage;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ storage, drop } = await openTestStorage(dialect));
  });
  afterAll(async () => {
    await storage.close();
    await drop();
  });

  it('upgrading a database that has only its ES256 key adds an RS256 key and keeps signing access tokens ES256', async () => {
    await migrateBeforeOpenIdConnect(storage);
    const legacyKid = await insertLegacyEs256Key(storage);
    const app = await buildApp(testConfig(OAUTH_ENV), { storage });
    try {
      const keys = await describeSigningKeys(storage.db, 3600);
      expect(keys.map((k) => [k.alg, k.status]).sort()).toEqual([
        ['ES256', 'active'],
        ['RS256', 'active'],
      ]);
      expect(keys.find((k) => k.alg === 'ES256')?.kid).toBe(legacyKid);
      expect(app.services.keyRing.signer().kid).toBe(legacyKid);
      const rs256 = keys.find((k) => k.alg === 'RS256');
      expect(app.services.keyRing.signer('RS256').kid).toBe(rs256?.kid);
      const published = (await app.inject({ url: '/.well-known/openid-configuration/jwks' })).json().keys;
      expect(published.map((k: Jwk) => [k.kty, k.kid]).sort()).toEqual(
        [
          ['EC', legacyKid],
          ['RSA', rs256?.kid],
        ].sort(),
      );
      const created = await storage.db
        .selectFrom('audit_events')
        .select(['target'])
        .where('action', '=', 'signing_key.created')
        .execute();
      expect(created).toEqual([{ target: rs256?.kid }]);
    } finally {
      await app.close();
    }
  });

  it('instances starting at once on an upgraded database end with one active key per algorithm', async () => {
    await storage.db.deleteFrom('signing_keys').where('alg', '=', 'RS256').execute();
    await releaseMany(4, () => ensureSigningKey(storage.db, SECRET));
    const active = (await describeSigningKeys(storage.db, 3600)).filter((k) => k.status === 'active');
    expect(active.map((k) => k.alg).sort()).toEqual(['ES256', 'RS256']);
  });
});

describe('signing-key encryption at rest', () => {
  it('opens only with the same secret and the same kid, and detects tampering', () => {
    const envelope = seal(SECRET, 'kid-1', '{"d":"private"}');
    expect(envelope).not.toContain('private');
    expect(open(SECRET, 'kid-1', envelope)).toBe('{"d":"private"}');
    expect(() => open('x'.repeat(40), 'kid-1', envelope)).toThrow(KeyDecryptionError);
    expect(() => open(SECRET, 'kid-2', envelope)).toThrow(KeyDecryptionError);
    const parts = envelope.split('.');
    const tag = parts[3] ?? '';
    // A different first character (a fixed 'A' would leave a tag starting with 'A' intact).
    parts[3] = `${tag.startsWith('A') ? 'B' : 'A'}${tag.slice(1)}`;
    expect(() => open(SECRET, 'kid-1', parts.join('.'))).toThrow(KeyDecryptionError);
    expect(() => open(SECRET, 'kid-1', 'garbage')).toThrow(KeyDecryptionError);
  });
});

// The CLI runs as a real process over a SQLite file; the domain functions it calls are tested on both dialects above.
describe('gatehouse signing-keys (CLI)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const bin = CLI;
  const run = (...args: string[]) => {
    const result = spawnSync(process.execPath, [bin, 'signing-keys', ...args, '--json'], {
      env: { ...process.env, GATEHOUSE_DATABASE_URL: join(dir, 'db.sqlite'), GATEHOUSE_SECRET: SECRET },
      encoding: 'utf8',
    });
    return { status: result.status, json: JSON.parse(result.stdout || 'null'), stdout: result.stdout };
  };
  // Only `init`, `migrate` and `serve` create a database: the operator migrates first.
  beforeAll(() => {
    const env = { ...process.env, GATEHOUSE_DATABASE_URL: join(dir, 'db.sqlite'), GATEHOUSE_SECRET: SECRET };
    expect(spawnSync(process.execPath, [bin, 'migrate'], { env, encoding: 'utf8' }).status).toBe(0);
  });

  it('rotates both algorithms (or one with --alg) and lists keys without ever printing a private part', () => {
    const first = run('rotate');
    expect(first.status).toBe(0);
    expect(first.json).toEqual({
      rotated: [
        { alg: 'ES256', kid: expect.any(String), previousKid: null, previousPublishedUntil: null },
        { alg: 'RS256', kid: expect.any(String), previousKid: null, previousPublishedUntil: null },
      ],
    });
    const [es256, rs256] = first.json.rotated;
    const second = run('rotate', '--alg', 'RS256');
    expect(second.json.rotated).toEqual([
      {
        alg: 'RS256',
        kid: expect.any(String),
        previousKid: rs256.kid,
        previousPublishedUntil: expect.stringMatching(/^\d{4}-/),
      },
    ]);
    const list = run('list');
    expect(list.status).toBe(0);
    expect(
      list.json.items.map((k: { kid: string; alg: string; status: string }) => [k.kid, k.alg, k.status]),
    ).toEqual([
      [second.json.rotated[0].kid, 'RS256', 'active'],
      [rs256.kid, 'RS256', 'published'],
      [es256.kid, 'ES256', 'active'],
    ]);
    expect(list.stdout).not.toMatch(/"d"|private/i);
    expect(run('rotate', '--alg', 'HS256').status).toBe(2);
    expect(run('unknown').status).toBe(2);
  });
});
