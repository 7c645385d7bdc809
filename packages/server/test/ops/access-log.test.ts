import { describe, expect, it } from 'vitest';
import { basicAuth, postForm } from '../helpers/http.ts';
import { useSeededApp } from '../helpers/seeded-app.ts';
import { OAUTH_ENV } from '../oauth/oauth-helpers.ts';

interface LogLine {
  msg?: string;
  reqId?: string;
  level?: number;
  [field: string]: unknown;
}

/** An app that logs at `level` into memory, with one proxy in front (so that the client address is resolved). */
function loggedApp(level: string) {
  const output: string[] = [];
  const ctx = useSeededApp(
    'sqlite',
    { ...OAUTH_ENV, GATEHOUSE_LOG_LEVEL: level, GATEHOUSE_TRUST_PROXY: '1' },
    { logStream: { write: (line: string) => void output.push(line) } },
  );
  return {
    ctx,
    output,
    /** What was logged since `mark` (an index into the output), parsed. */
    linesSince: (mark: number): LogLine[] => output.slice(mark).map((line) => JSON.parse(line) as LogLine),
  };
}

/**
 * Issue 13, "Observability": one access-log line per request with the request id, the route pattern,
 * the status, the duration, the client address as resolved and the caller's tenant and credential, and
 * never a secret (DESIGN.md 3 rule 1). Logging does not depend on the dialect: SQLite only.
 */
describe('access log', () => {
  const { ctx, output, linesSince } = loggedApp('info');

  it('writes exactly one line per request, with who asked, what, and how it went', async () => {
    const mark = output.length;
    const { seed } = ctx;
    const sessionCookie = 'gatehouse_session=cookie-secret-0123456789';
    const answers = [
      await ctx.app.inject({
        url: '/v1/workspaces',
        headers: { 'x-api-key': seed.orgKeyA.privateKey, 'x-forwarded-for': '203.0.113.9' },
        remoteAddress: '10.0.0.1',
      }),
      await postForm(
        ctx.app,
        '/connect/token',
        { grant_type: 'client_credentials' },
        { authorization: basicAuth(seed.orgKeyB.key.publicKey, seed.orgKeyB.privateKey) },
        { remoteAddress: '10.0.0.2' },
      ),
    ];
    const token = answers[1]?.json().access_token as string;
    answers.push(
      await ctx.app.inject({
        url: '/me',
        headers: { authorization: `Bearer ${token}` },
        remoteAddress: '10.0.0.3',
      }),
      await postForm(
        ctx.app,
        '/connect/token',
        {
          grant_type: 'client_credentials',
          client_id: seed.workspaceKeyA.key.publicKey,
          client_secret: seed.workspaceKeyA.privateKey,
        },
        {},
        { remoteAddress: '10.0.0.4' },
      ),
      await ctx.app.inject({
        url: '/console',
        headers: { cookie: sessionCookie },
        remoteAddress: '10.0.0.5',
      }),
      await ctx.app.inject({
        url: `/v1/workspaces/${seed.a.mainWorkspaceId}?apiKey=${seed.adminKeyA.privateKey}`,
        headers: { 'x-api-key': 'not-a-key' },
        remoteAddress: '10.0.0.6',
      }),
      await ctx.app.inject({ url: '/no/such/route', remoteAddress: '10.0.0.7' }),
    );
    expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200, 200, 303, 401, 404]);

    const lines = linesSince(mark);
    // Fastify's own two lines per request are replaced by ours: nothing else is written for these.
    expect(lines.map((line) => line.msg)).toEqual(answers.map(() => 'request completed'));
    expect(new Set(lines.map((line) => line.reqId)).size).toBe(answers.length);
    for (const line of lines) {
      expect(line.reqId).toMatch(/^[0-9a-f-]{36}$/);
      expect(line.level).toBe(30);
      expect(typeof line.durationMs).toBe('number');
    }
    const pick = ({ method, route, status, ip, tenantId, credential, userId }: LogLine) => ({
      method,
      route,
      status,
      ip,
      tenantId,
      credential,
      userId,
    });
    expect(lines.map(pick)).toEqual([
      {
        method: 'GET',
        route: '/v1/workspaces',
        status: 200,
        // The address the proxy saw (GATEHOUSE_TRUST_PROXY=1), as rate limits and the audit log use it.
        ip: '203.0.113.9',
        tenantId: seed.a.tenantId,
        credential: seed.orgKeyA.key.publicKey,
        userId: undefined,
      },
      {
        method: 'POST',
        route: '/connect/token',
        status: 200,
        ip: '10.0.0.2',
        tenantId: seed.b.tenantId,
        credential: seed.orgKeyB.key.publicKey,
        userId: undefined,
      },
      {
        method: 'GET',
        route: '/me',
        status: 200,
        ip: '10.0.0.3',
        tenantId: seed.b.tenantId,
        credential: seed.orgKeyB.key.publicKey,
        userId: undefined,
      },
      {
        method: 'POST',
        route: '/connect/token',
        status: 200,
        ip: '10.0.0.4',
        tenantId: seed.a.tenantId,
        credential: seed.workspaceKeyA.key.publicKey,
        userId: undefined,
      },
      {
        method: 'GET',
        route: '/console',
        status: 303,
        ip: '10.0.0.5',
        tenantId: undefined,
        credential: undefined,
        userId: undefined,
      },
      {
        method: 'GET',
        route: '/v1/workspaces/:id',
        status: 401,
        ip: '10.0.0.6',
        tenantId: undefined,
        credential: undefined,
        userId: undefined,
      },
      {
        method: 'GET',
        route: 'unmatched',
        status: 404,
        ip: '10.0.0.7',
        tenantId: undefined,
        credential: undefined,
        userId: undefined,
      },
    ]);

    const written = output.slice(mark).join('');
    const secrets = {
      apiKey: seed.orgKeyA.privateKey,
      basicSecret: seed.orgKeyB.privateKey,
      basicHeader: basicAuth(seed.orgKeyB.key.publicKey, seed.orgKeyB.privateKey).slice(6),
      postSecret: seed.workspaceKeyA.privateKey,
      bearerToken: token,
      tokenSignature: token.split('.')[2] ?? 'missing',
      cookie: 'cookie-secret-0123456789',
      queryKey: seed.adminKeyA.privateKey,
    };
    for (const [name, secret] of Object.entries(secrets))
      expect(written.includes(secret), `${name} appears in the access log`).toBe(false);
    expect(written).not.toContain('apiKey=');
  });
});

describe('access log above info', () => {
  const { ctx, output, linesSince } = loggedApp('warn');

  it('writes nothing for answered requests', async () => {
    const mark = output.length;
    await ctx.app.inject({ url: '/v1/workspaces', headers: { 'x-api-key': ctx.seed.orgKeyA.privateKey } });
    await ctx.app.inject({ url: '/no/such/route' });
    expect(linesSince(mark)).toEqual([]);
  });
});
