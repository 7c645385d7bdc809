import net from 'node:net';
import { beforeAll, beforeEach, expect, it } from 'vitest';
import { createApiKey } from '../../src/domain/api-keys.ts';
import { CLI_ACTOR } from '../../src/domain/audit.ts';
import { Browser, hiddenFields } from '../helpers/authorization-flow.ts';
import { PASSWORD } from '../helpers/seed.ts';
import { useSeededApp } from '../helpers/seeded-app.ts';
import { describeEachDialect } from '../helpers/test-app.ts';

const REDIRECT = 'https://app.example/callback';

/** Sends raw bytes to a listening server, so that the exact request target reaches it. */
function rawRequest(
  port: number,
  head: string,
  body = '',
): Promise<{ status: number; headers: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(
        `${head}\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    });
    let out = '';
    socket.on('data', (chunk) => {
      out += chunk.toString('utf8');
    });
    socket.on('error', reject);
    socket.on('close', () => {
      const split = out.indexOf('\r\n\r\n');
      resolve({
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(out)?.[1] ?? 0),
        headers: out.slice(0, split).toLowerCase(),
        body: out.slice(split + 4),
      });
    });
  });
}

describeEachDialect('edges that bypassed the error handling', (dialect) => {
  const log: string[] = [];
  const ctx = useSeededApp(
    dialect,
    { GATEHOUSE_LOG_LEVEL: 'info' },
    { logStream: { write: (line) => log.push(line) } },
  );
  let port: number;
  beforeAll(async () => {
    await ctx.app.listen({ host: '127.0.0.1', port: 0 });
    port = (ctx.app.server.address() as net.AddressInfo).port;
  });
  beforeEach(() => {
    ctx.app.services.signInThrottle.clear();
    log.length = 0;
  });

  const errorsLogged = () =>
    log.map((line) => JSON.parse(line) as { level: number; msg: string }).filter((l) => l.level >= 50);

  it('signs in with a non-ASCII return_to and redirects to it percent-encoded, never a 500', async () => {
    const returnTo = `/connect/authorize?${new URLSearchParams({ client_id: ctx.seed.orgKeyA.key.publicKey })}&x=€`;
    const browser = new Browser(ctx.app);
    const page = await browser.get(`/console/sign-in?return_to=${encodeURIComponent(returnTo)}`);
    expect(page.statusCode).toBe(200);
    const res = await browser.post('/console/sign-in', {
      ...hiddenFields(page.body, '/console/sign-in'),
      email: 'owner@a.test',
      password: PASSWORD,
    });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe(
      `/connect/authorize?client_id=${ctx.seed.orgKeyA.key.publicKey}&x=%E2%82%AC`,
    );
    expect(errorsLogged()).toEqual([]);
  });

  it("falls back to the console's start for a return_to with control characters or a lone surrogate", async () => {
    for (const returnTo of [
      '/connect/authorize?a=\u0000',
      '/connect/authorize?a=\ud800',
      '/connect/authorize?\r\nX: y',
    ]) {
      const browser = new Browser(ctx.app);
      const page = await browser.get('/console/sign-in');
      const res = await browser.post('/console/sign-in', {
        ...hiddenFields(page.body, '/console/sign-in'),
        return_to: returnTo,
        email: 'owner@a.test',
        password: PASSWORD,
      });
      // A NUL is refused with a 400 page by the input guard; the others sign in, to a printable target.
      expect([303, 400]).toContain(res.statusCode);
      if (res.statusCode === 303)
        expect(res.headers.location).toMatch(/^\/(connect\/authorize\?[\x21-\x7e]*)?$/);
    }
  });

  it('answers a deeply nested JSON body on the authorization endpoint and the consent form with a 415 page', async () => {
    for (const url of ['/connect/authorize', '/console/consent', '/console/sign-in']) {
      const res = await ctx.app.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/json' },
        payload: '['.repeat(30_000),
      });
      expect(res.statusCode).toBe(415);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.body).not.toMatch(/\bat .*\.ts:\d+|node:internal/);
    }
    expect(errorsLogged()).toEqual([]);
  });

  it('logs no error when a non-member or a prompt=none request is answered at the authorization endpoint', async () => {
    const browser = new Browser(ctx.app);
    expect((await browser.signIn('owner@b.test', PASSWORD)).statusCode).toBe(303);
    const query = (extra: Record<string, string> = {}) =>
      `/connect/authorize?${new URLSearchParams({ response_type: 'code', client_id: ctx.seed.orgKeyA.key.publicKey, redirect_uri: REDIRECT, scope: 'api1', ...extra })}`;
    const notMember = await browser.get(query());
    expect(notMember.statusCode).toBe(303);
    expect(notMember.headers.location).toMatch(/^\/console\/sign-in\?.*reason=not_member/);
    const none = await browser.get(query({ prompt: 'none' }));
    expect(new URL(String(none.headers.location)).searchParams.get('error')).toBe('login_required');
    // A workspace key whose workspace the user cannot see: access_denied, also without an error logged.
    const other = await createApiKey(
      ctx.app.services.db,
      {
        tenantId: ctx.seed.b.tenantId,
        workspaceId: ctx.seed.b.workspaceId,
        label: 'B ws',
        redirectUris: [REDIRECT],
      },
      CLI_ACTOR,
    );
    const consent = await browser.get(
      `/connect/authorize?${new URLSearchParams({ response_type: 'code', client_id: other.key.publicKey, redirect_uri: REDIRECT, scope: 'api1', prompt: 'none' })}`,
    );
    expect(consent.statusCode).toBe(303);
    expect(errorsLogged()).toEqual([]);
  });

  it('answers a bad percent-encoding under /connect/token in RFC 6749 JSON, with the security headers, without echoing the path', async () => {
    const res = await rawRequest(
      port,
      'POST /connect/token%zz<b>x HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded',
      'grant_type=client_credentials',
    );
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toEqual({
      error: 'invalid_request',
      error_description: 'the request path is not valid',
    });
    expect(res.headers).toContain('x-content-type-options: nosniff');
    expect(res.headers).toContain('cache-control: no-store');
    expect(res.body).not.toContain('%zz');
    const api = await rawRequest(port, 'GET /me%zz HTTP/1.1');
    expect(api.status).toBe(400);
    expect(api.headers).toContain('content-type: application/problem+json');
    expect(api.headers).toContain('x-content-type-options: nosniff');
    expect(api.body).not.toContain('%zz');
  });

  it('answers an absolute-form request to the token endpoint in RFC 6749 JSON', async () => {
    const res = await rawRequest(
      port,
      `POST http://evil.example/connect/token HTTP/1.1\r\nContent-Type: application/json`,
      '{}',
    );
    expect(res.status).toBe(400);
    expect(res.headers).toContain('content-type: application/json');
    expect(JSON.parse(res.body).error).toBe('invalid_request');
    const form = await rawRequest(
      port,
      'POST http://evil.example/connect/token HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded',
      'grant_type=client_credentials',
    );
    expect(form.status).toBe(401);
    expect(JSON.parse(form.body).error).toBe('invalid_client');
  });

  it('serves Swagger UI with a Content-Security-Policy and no framing', async () => {
    const res = await ctx.app.inject({ url: '/swagger/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
    expect(res.headers['content-security-policy']).toMatch(/script-src 'self'(;|$)/);
    expect(res.headers['x-frame-options']).toBe('DENY');
  });

  it('never puts a double quote or backslash in an error_description (RFC 6749 5.2)', async () => {
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/connect/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'grant_type=client_credentials&grant_type=client_credentials',
    });
    expect(res.json()).toEqual({
      error: 'invalid_request',
      error_description: "parameter 'grant_type' is included more than once",
    });
    const bearer = await ctx.app.inject({ url: '/me', headers: { authorization: 'Bearer' } });
    expect(bearer.headers['www-authenticate']).toMatch(/error_description="[^"\\]*"$/);
  });

  it("redirects Swagger UI's static index to /swagger/ whatever the query, case or host: no loop, no open redirect", async () => {
    for (const url of ['/swagger/static/index.html?x=1', '/SWAGGER/STATIC/INDEX.HTML']) {
      const res = await ctx.app.inject({ url });
      expect(res.statusCode).toBe(302);
      expect(res.headers.location).toBe('/swagger/');
    }
    const absolute = await rawRequest(port, 'GET http://evil.example/swagger/static/index.html HTTP/1.1');
    expect(absolute.headers).toContain('location: /swagger/\r\n');
  });

  it('answers a request the HTTP parser refuses in the format of the endpoint it names, with nosniff', async () => {
    const page = await rawRequest(port, 'GET /console/sign-in?return_to=/ x HTTP/1.1');
    expect(page.status).toBe(400);
    expect(page.headers).toContain('content-type: text/html');
    expect(page.headers).toContain('x-content-type-options: nosniff');
    const api = await rawRequest(port, 'FROB /v1/workspaces HTTP/1.1');
    expect(api.status).toBe(400);
    expect(api.headers).toContain('content-type: application/problem+json');
  });

  it('answers a JSON body sent to an unknown console path with a page, not a problem', async () => {
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/console/nothing-here',
      headers: { 'content-type': 'application/json' },
      payload: '[[[',
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
  });
});
