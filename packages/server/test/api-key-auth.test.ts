import { expect, it } from 'vitest';
import { createApiKey, revokeApiKey, rotateApiKey } from '../src/domain/api-keys.ts';
import { CLI_ACTOR } from '../src/domain/audit.ts';
import { generatePrivateKey, generatePublicKey } from '../src/domain/key-format.ts';
import { hashSecret } from '../src/domain/secrets.ts';
import { insertApiKey, touchLastUsed } from '../src/storage/repositories/api-keys.ts';
import { wait } from './helpers/http.ts';
import { useSeededApp } from './helpers/seeded-app.ts';
import { tamperLast } from './helpers/tamper.ts';
import { describeEachDialect } from './helpers/test-app.ts';

describeEachDialect('X-API-Key authentication', (dialect) => {
  const ctx = useSeededApp(dialect);

  const me = (headers: Record<string, string>) => ctx.app.inject({ method: 'GET', url: '/me', headers });

  it('answers /me with the principal of a valid key', async () => {
    const res = await me({ accept: '*/*', 'X-API-Key': ctx.seed.orgKeyA.privateKey });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      authMethod: 'apiKey',
      tenantId: ctx.seed.a.tenantId,
      workspaceId: null,
      apiKey: { publicKey: ctx.seed.orgKeyA.key.publicKey, label: 'A org key' },
      user: null,
      scope: 'api1',
      permissions: 'write',
    });
  });

  it('accepts the header name in any case', async () => {
    for (const name of ['X-Api-Key', 'x-api-key', 'X-API-KEY']) {
      expect((await me({ [name]: ctx.seed.orgKeyA.privateKey })).statusCode).toBe(200);
    }
  });

  it('refuses a request without credentials with 401, a Bearer challenge and a problem body', async () => {
    const res = await me({});
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="gatehouse"');
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({
      status: 401,
      code: 'unauthorized',
      type: 'urn:gatehouse:problem:unauthorized',
    });
  });

  it.each([
    ['a malformed key', 'not-a-key'],
    ['an empty key', ''],
    // Its last character is the checksum's: a different one breaks it.
    ['a key with a bad checksum', tamperLast(generatePrivateKey())],
    ['a well-formed unknown key', generatePrivateKey()],
    ['an injection string', "gsk_' OR 1=1 --"],
    ['unicode', 'gsk_ÿÿÿÿÿÿÿÿ💥'],
  ])('refuses %s with 401 invalid_token', async (_name, value) => {
    const res = await me({ 'x-api-key': value });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/error="invalid_token"/);
    expect(res.json().code).toBe('invalid_token');
  });

  it('never reads a key from the query string', async () => {
    const res = await ctx.app.inject({
      method: 'GET',
      url: `/me?apiKey=${ctx.seed.orgKeyA.privateKey}&x-api-key=${ctx.seed.orgKeyA.privateKey}`,
    });
    expect(res.statusCode).toBe(401);
  });

  it('refuses a repeated X-API-Key header', async () => {
    const res = await ctx.app.inject({
      method: 'GET',
      url: '/me',
      headers: { 'x-api-key': [ctx.seed.orgKeyA.privateKey, ctx.seed.orgKeyB.privateKey] },
    });
    expect(res.statusCode).toBe(401);
  });

  it('refuses a request carrying both X-API-Key and Authorization', async () => {
    const res = await me({ 'x-api-key': ctx.seed.orgKeyA.privateKey, authorization: 'Bearer abc' });
    expect(res.statusCode).toBe(401);
  });

  it('never echoes the submitted key in an error', async () => {
    const wrong = generatePrivateKey();
    const res = await me({ 'x-api-key': wrong });
    expect(res.body).not.toContain(wrong);
  });

  it('refuses a revoked key at once, even when it was cached', async () => {
    const issued = await createApiKey(
      ctx.app.services.db,
      { tenantId: ctx.seed.a.tenantId, label: 'to revoke' },
      CLI_ACTOR,
    );
    expect((await me({ 'x-api-key': issued.privateKey })).statusCode).toBe(200);
    await revokeApiKey(ctx.app.services.db, issued.key.publicKey, CLI_ACTOR);
    // Another process (the CLI) revoked it: the invalidation feed reaches this instance within its poll interval.
    await wait(200);
    const res = await me({ 'x-api-key': issued.privateKey });
    expect(res.statusCode).toBe(401);
    expect(res.json().detail).toMatch(/revoked/);
  });

  it('refuses an expired key', async () => {
    const issued = await createApiKey(
      ctx.app.services.db,
      { tenantId: ctx.seed.a.tenantId, expiresInMs: 50 },
      CLI_ACTOR,
    );
    await wait(80);
    const res = await me({ 'x-api-key': issued.privateKey });
    expect(res.statusCode).toBe(401);
    expect(res.json().detail).toMatch(/expired/);
  });

  it('keeps a rotated key working during its grace period only', async () => {
    const issued = await createApiKey(ctx.app.services.db, { tenantId: ctx.seed.a.tenantId }, CLI_ACTOR);
    const withGrace = await rotateApiKey(ctx.app.services.db, issued.key.publicKey, 60_000, CLI_ACTOR);
    await wait(200);
    expect((await me({ 'x-api-key': issued.privateKey })).statusCode).toBe(200);
    expect((await me({ 'x-api-key': withGrace.privateKey })).statusCode).toBe(200);
    const noGrace = await rotateApiKey(ctx.app.services.db, issued.key.publicKey, 0, CLI_ACTOR);
    await wait(200);
    for (const old of [issued.privateKey, withGrace.privateKey]) {
      const res = await me({ 'x-api-key': old });
      expect(res.statusCode).toBe(401);
      expect(res.json().detail).toMatch(/rotated/);
    }
    expect((await me({ 'x-api-key': noGrace.privateKey })).statusCode).toBe(200);
  });

  it('records when a key was last used, in batches', async () => {
    const issued = await createApiKey(ctx.app.services.db, { tenantId: ctx.seed.a.tenantId }, CLI_ACTOR);
    await me({ 'x-api-key': issued.privateKey });
    await ctx.app.services.keys.flush();
    const row = await ctx.app.services.db
      .selectFrom('api_keys')
      .select('last_used_at')
      .where('id', '=', issued.key.id)
      .executeTakeFirstOrThrow();
    expect(row.last_used_at).toBeGreaterThan(Date.now() - 60_000);
  });

  it('writes a batch of last-used times, each key its own, across statement chunks', async () => {
    const db = ctx.app.services.db;
    const ids = await db.transaction().execute(async (trx) => {
      const created: number[] = [];
      for (let i = 0; i < 501; i++) {
        const key = await insertApiKey(
          trx,
          {
            tenantId: ctx.seed.b.tenantId,
            workspaceId: null,
            label: `batch ${i}`,
            publicKey: generatePublicKey(),
            redirectUris: [],
            corsOrigins: [],
            expiresAt: null,
            createdBy: 'test',
          },
          { hash: hashSecret(generatePrivateKey()), last4: 'abcd' },
          Date.now(),
        );
        created.push(key.id);
      }
      return created;
    });
    const base = 1_700_000_000_000;
    await touchLastUsed(db, new Map(ids.map((id, i) => [id, base + i])));
    const rows = await db
      .selectFrom('api_keys')
      .select(['id', 'last_used_at'])
      .where('id', 'in', ids)
      .execute();
    expect(rows).toHaveLength(501);
    for (const row of rows) expect(row.last_used_at).toBe(base + ids.indexOf(row.id));
  });

  it('stores only the hash of a private key', async () => {
    const rows = await ctx.app.services.db.selectFrom('api_key_secrets').selectAll().execute();
    const dump =
      JSON.stringify(rows) +
      JSON.stringify(await ctx.app.services.db.selectFrom('api_keys').selectAll().execute());
    expect(dump).not.toContain(ctx.seed.orgKeyA.privateKey);
    expect(dump).not.toContain(ctx.seed.orgKeyA.privateKey.slice(4, 40));
  });
});
