import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { CLI_ACTOR } from '../../src/domain/audit.ts';
import { KeyDecryptionError, open, seal } from '../../src/domain/key-encryption.ts';
import {
  describeSigningKeys,
  PUBLICATION_MARGIN_MS,
  rotateSigningKey,
} from '../../src/domain/signing-keys.ts';
import { useSeededApp } from '../helpers/seeded-app.ts';
import { describeEachDialect, testConfig } from '../helpers/test-app.ts';
import { decodePart, OAUTH_ENV, tokenFor } from './oauth-helpers.ts';

const SECRET = testConfig().secret;

describeEachDialect('signing keys', (dialect) => {
  const ctx = useSeededApp(dialect, OAUTH_ENV);

  const me = (target: FastifyInstance, token: string) =>
    target.inject({ method: 'GET', url: '/me', headers: { authorization: `Bearer ${token}` } });
  const jwks = async () => (await ctx.app.inject({ url: '/.well-known/openid-configuration/jwks' })).json();

  it('generates one signing key on first start, audited, and signs tokens with its kid', async () => {
    const keys = await describeSigningKeys(ctx.app.services.db, 3600);
    expect(keys).toHaveLength(1);
    expect(keys[0]?.status).toBe('active');
    expect(keys[0]?.alg).toBe('ES256');
    const token = await tokenFor(ctx.app, ctx.seed.orgKeyA);
    expect(decodePart(token, 0).kid).toBe(keys[0]?.kid);
    const audit = await ctx.app.services.db
      .selectFrom('audit_events')
      .select(['actor', 'target'])
      .where('action', '=', 'signing_key.created')
      .execute();
    expect(audit).toEqual([{ actor: 'system', target: keys[0]?.kid }]);
  });

  it('publishes only public parts in the JWKS', async () => {
    const res = await ctx.app.inject({ url: '/.well-known/openid-configuration/jwks' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/jwk-set\+json/);
    for (const key of res.json().keys) {
      expect(Object.keys(key).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
      expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    }
    expect(res.body).not.toMatch(/"d"/);
  });

  it('never stores the private JWK in clear in the database (DESIGN.md 3 rule 1)', async () => {
    const d = ctx.app.services.keyRing.signer().key.export({ format: 'jwk' }).d as string;
    const forms = [
      d,
      Buffer.from(d, 'base64url').toString('base64'),
      Buffer.from(d, 'base64url').toString('hex'),
    ];
    const rows = await ctx.app.services.db.selectFrom('signing_keys').selectAll().execute();
    expect(rows.length).toBeGreaterThan(0);
    const dump = JSON.stringify(rows);
    for (const form of forms) expect(dump).not.toContain(form);
    for (const row of rows) expect(row.private_jwk_encrypted).toMatch(/^v1\./);
  });

  it('refuses to start with a GATEHOUSE_SECRET that cannot open the stored key', async () => {
    const config = testConfig({ ...OAUTH_ENV, GATEHOUSE_SECRET: 'another-secret-another-secret-another-1' });
    await expect(buildApp(config, { storage: ctx.storage })).rejects.toThrow(/GATEHOUSE_SECRET/);
  });

  it('rotation: new tokens carry the new kid, old tokens stay valid, both keys are published', async () => {
    const other = await buildApp(testConfig(OAUTH_ENV), { storage: ctx.storage });
    try {
      const before = await tokenFor(ctx.app, ctx.seed.orgKeyA);
      const oldKid = decodePart(before, 0).kid;
      const rotated = await rotateSigningKey(ctx.app.services.db, SECRET, CLI_ACTOR);
      expect(rotated.previousKid).toBe(oldKid);
      // The periodic reload, done now rather than waited for.
      await ctx.app.services.keyRing.reload();
      const after = await tokenFor(ctx.app, ctx.seed.orgKeyA);
      expect(decodePart(after, 0).kid).toBe(rotated.kid);
      expect((await me(ctx.app, before)).statusCode).toBe(200);
      expect((await me(ctx.app, after)).statusCode).toBe(200);
      // An instance that has not reloaded yet learns the new kid from the first token that names it.
      expect((await me(other, after)).statusCode).toBe(200);
      expect((await jwks()).keys.map((k: { kid: string }) => k.kid).sort()).toEqual(
        [oldKid, rotated.kid].sort(),
      );
      const statuses = await describeSigningKeys(ctx.app.services.db, 3600);
      expect(statuses.map((k) => k.status)).toEqual(['active', 'published']);
      const audit = await ctx.app.services.db
        .selectFrom('audit_events')
        .select(['actor', 'target'])
        .where('action', '=', 'signing_key.rotated')
        .execute();
      expect(audit).toContainEqual({ actor: 'cli', target: rotated.kid });
    } finally {
      await other.close();
    }
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
    await ctx.app.services.keyRing.reload();
    expect((await jwks()).keys.map((k: { kid: string }) => k.kid)).not.toContain(oldKid);
    const res = await me(ctx.app, before);
    expect(res.statusCode).toBe(401);
    expect(res.json().detail).toMatch(/unknown key/);
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
  const bin = resolve(import.meta.dirname, '../../bin/gatehouse.js');
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

  it('rotates and lists keys without ever printing a private part', () => {
    const first = run('rotate');
    expect(first.status).toBe(0);
    expect(first.json).toEqual({ kid: expect.any(String), previousKid: null, previousPublishedUntil: null });
    const second = run('rotate');
    expect(second.json.previousKid).toBe(first.json.kid);
    const list = run('list');
    expect(list.status).toBe(0);
    expect(list.json.items.map((k: { kid: string; status: string }) => [k.kid, k.status])).toEqual([
      [second.json.kid, 'active'],
      [first.json.kid, 'published'],
    ]);
    expect(list.stdout).not.toMatch(/"d"|private/i);
    expect(run('unknown').status).toBe(2);
  });
});
