import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { beforeAll, expect, it } from 'vitest';
import { useSeededApp } from './helpers/seeded-app.ts';
import { describeEachDialect } from './helpers/test-app.ts';

/**
 * DESIGN.md 3 rule 10: malformed, oversized, wrongly typed or hostile input gets a 4xx in the documented
 * format (`application/problem+json` with a `requestId`), never a 500, never a stack trace.
 */
describeEachDialect('bad input', (dialect) => {
  const ctx = useSeededApp(dialect);
  let entitiesUrl: string;
  beforeAll(async () => {
    entitiesUrl = `/v1/workspaces/${ctx.seed.a.mainWorkspaceId}/entities`;
  });

  const key = () => ({ 'x-api-key': ctx.seed.orgKeyA.privateKey });

  /** The documented error format, checked on every error answer of this file. */
  function expectProblem(res: LightMyRequestResponse, status: number) {
    expect(res.statusCode, res.body).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = res.json();
    const { errors, ...problem } = body;
    expect(problem).toEqual({
      type: expect.stringMatching(/^urn:gatehouse:problem:/),
      title: expect.any(String),
      status,
      detail: expect.any(String),
      code: expect.any(String),
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    // A refused input is named: `errors` lists each field and what is wrong with it.
    if (errors !== undefined) {
      expect(body.code).toBe('validation_failed');
      expect(errors).toEqual(
        expect.arrayContaining([{ field: expect.any(String), message: expect.any(String) }]),
      );
    }
    expect(res.body).not.toMatch(/\bat .+\.(ts|js):\d+|node_modules|Error:/);
    return body;
  }

  const post = (options: Partial<InjectOptions>) =>
    ctx.app.inject({
      method: 'POST',
      url: entitiesUrl,
      ...options,
      headers: { ...key(), ...options.headers },
    });

  it('refuses an oversized body with 413', async () => {
    const res = await post({
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'x'.repeat(100 * 1024) }),
    });
    expect(expectProblem(res, 413).code).toBe('payload_too_large');
  });

  it('refuses an oversized body with 413 even before authentication', async () => {
    const res = await ctx.app.inject({
      method: 'POST',
      url: entitiesUrl,
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'x'.repeat(100 * 1024) }),
    });
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.statusCode).toBeLessThan(500);
  });

  it.each([
    ['text/plain', 'name=x'],
    ['application/xml', '<name>x</name>'],
    [
      'multipart/form-data; boundary=x',
      '--x\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n--x--',
    ],
    ['application/octet-stream', 'xx'],
  ])('refuses content type %s with 415', async (contentType, payload) => {
    const res = await post({ headers: { 'content-type': contentType }, payload });
    expect(expectProblem(res, 415).code).toBe('unsupported_media_type');
  });

  it.each([
    ['truncated JSON', '{"name":'],
    ['a bare string', '"name"'],
    ['trailing garbage', '{"name":"x"} trailing'],
    ['an empty body', ''],
    ['a prototype-poisoning key', '{"name":"x","__proto__":{"admin":true}}'],
    ['a constructor-poisoning key', '{"name":"x","constructor":{"prototype":{"admin":true}}}'],
  ])('refuses %s with a 400 problem', async (_name, payload) => {
    const res = await post({ headers: { 'content-type': 'application/json' }, payload });
    expect(expectProblem(res, 400).code).toBe('validation_failed');
  });

  it.each([
    ['accents and emoji', 'Zürich 🚀 数据 Ωmega'],
    ['right-to-left override', 'abc\u202Egnp.exe'],
    ['combining characters', 'Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇'],
    ['an SQL injection', "'); DROP TABLE entities; --"],
    ['a LIKE wildcard storm', '%%%___%%%'],
    ['HTML', '<script>alert(1)</script>'],
    ['a JSON-looking string', '{"$ne": null}'],
  ])('stores a label with %s literally', async (_name, name) => {
    const res = await post({ payload: { name } });
    expect(res.statusCode).toBe(201);
    expect(res.json().name).toBe(name);
    const listed = await ctx.app.inject({ method: 'GET', url: `${entitiesUrl}?size=500`, headers: key() });
    expect(listed.json().items.map((e: { name: string }) => e.name)).toContain(name);
  });

  it('keeps working after hostile labels: no table was dropped', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/v1/workspaces', headers: key() });
    expect(res.json().total).toBe(2);
  });

  it.each([
    ['an SQL injection in q', `q=${encodeURIComponent("' OR 1=1 --")}`],
    ['unicode in q', `q=${encodeURIComponent('数据🚀')}`],
    ['a lone surrogate in q', 'q=%ED%A0%80'],
    ['invalid percent-encoding in q', 'q=%E0%A4%A'],
    ['an injection in sortBy', `sortBy=${encodeURIComponent('id; DROP TABLE workspaces')}`],
    ['sortBy naming a secret column', 'sortBy=secret_hash'],
  ])('answers %s with 200 and nothing extra', async (_name, query) => {
    const res = await ctx.app.inject({ method: 'GET', url: `/v1/workspaces?${query}`, headers: key() });
    expect(res.statusCode).toBe(200);
    expect(res.json().total).toBeLessThanOrEqual(2);
  });

  it.each([
    ['a q over 200 characters', `q=${'a'.repeat(201)}`],
    ['an encoded NUL in q (PostgreSQL cannot store it)', 'q=a%00b'],
    ['Infinity as page', 'page=Infinity'],
    ['-Infinity as size', 'size=-Infinity'],
    ['a non-numeric page', 'page=abc'],
    ['a huge page', 'page=1e309'],
    ['a negative size', 'size=-5'],
    ['a fractional size', 'size=1.5'],
    ['a non-boolean asc', 'asc=maybe'],
    ['a duplicated page', 'page=1&page=2'],
    ['a duplicated size', 'size=1&size=500'],
    ['a sortBy over 50 characters', `sortBy=${'x'.repeat(51)}`],
  ])('refuses %s with a 400 problem', async (_name, query) => {
    const res = await ctx.app.inject({ method: 'GET', url: `/v1/workspaces?${query}`, headers: key() });
    expect(expectProblem(res, 400).code).toBe('validation_failed');
  });

  it.each([
    ['Bearer without a token', { authorization: 'Bearer' }],
    ['Bearer with two tokens', { authorization: 'Bearer a b' }],
    ['a Basic header on the API', { authorization: 'Basic Zm9vOmJhcg==' }],
    ['garbage in Authorization', { authorization: '\u00ff\u00fe' }],
    ['an oversized API key', { 'x-api-key': `gsk_${'a'.repeat(10_000)}` }],
    ['an API key with a CRLF', { 'x-api-key': 'gsk_abc\r\nX-Injected: 1' }],
  ])('answers %s with a 401 problem', async (_name, headers) => {
    const res = await ctx.app.inject({ method: 'GET', url: '/me', headers });
    expect(expectProblem(res, 401).code).toMatch(/^(invalid_token|unauthorized)$/);
    expect(res.headers['x-injected']).toBeUndefined();
  });

  it('answers an unknown route with a 404 problem', async () => {
    expectProblem(await ctx.app.inject({ method: 'GET', url: '/v1/nothing-here', headers: key() }), 404);
    expectProblem(await ctx.app.inject({ method: 'GET', url: `/${'a/'.repeat(2000)}` }), 404);
  });

  it('answers an unsupported method on a known path with a 4xx problem', async () => {
    const res = await ctx.app.inject({ method: 'PATCH', url: '/v1/workspaces', headers: key() });
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.statusCode).toBeLessThan(500);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('refuses a NUL in an OAuth form parameter with invalid_request, never a 500', async () => {
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/connect/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'grant_type=client_credentials&scope=api1%00&client_id=x%00',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('invalid_request');
  });

  it('gives every error a distinct requestId, chosen by the server', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const res = await ctx.app.inject({ method: 'GET', url: '/me', headers: { 'request-id': 'forged' } });
      ids.add(res.json().requestId);
    }
    expect(ids.size).toBe(3);
    expect(ids.has('forged')).toBe(false);
  });
});
