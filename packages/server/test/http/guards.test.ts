import { expect, it } from 'vitest';
import { CLI_ACTOR } from '../../src/domain/audit.ts';
import { addMember } from '../../src/domain/members.ts';
import { issueAccessToken } from '../../src/oauth/access-token.ts';
import { PASSWORD } from '../helpers/seed.ts';
import { useSeededApp } from '../helpers/seeded-app.ts';
import { describeEachDialect } from '../helpers/test-app.ts';

/** The named pre-handlers of the REST API (http/require-role.ts, http/require-scope.ts), attacked over HTTP. */
describeEachDialect('REST pre-handlers', (dialect) => {
  const ctx = useSeededApp(dialect);

  /** A token of a new user of tenant A with `role`, through A's admin key (so the role is what limits it). */
  async function userToken(role: 'owner' | 'admin' | 'member', scope = 'api1'): Promise<string> {
    const email = `${role}-${Math.random().toString(36).slice(2)}@a.test`;
    const { user } = await addMember(
      ctx.app.services.db,
      { tenantId: ctx.seed.a.tenantId, email, password: PASSWORD, role },
      CLI_ACTOR,
    );
    const issued = await issueAccessToken(ctx.app.services, {
      client: ctx.seed.adminKeyA.key,
      userId: user.id,
      scope,
      workspaceId: null,
    });
    return issued.token;
  }

  const auditLog = (token: string) =>
    ctx.app.inject({ method: 'GET', url: '/v1/audit-events', headers: { authorization: `Bearer ${token}` } });

  it('requireRole: a member reading an owners-only resource is told it does not exist (404, never 403)', async () => {
    const res = await auditLog(await userToken('member'));
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json().code).toBe('not_found');
    expect(res.body).not.toContain('api_key');
  });

  it('requireRole: an owner or admin of the same organization reads it', async () => {
    for (const role of ['owner', 'admin'] as const) {
      const res = await auditLog(await userToken(role));
      expect(res.statusCode, role).toBe(200);
    }
  });

  it('requireScope: a valid token without the api1 scope is no credential for the REST API', async () => {
    const res = await ctx.app.inject({
      method: 'GET',
      url: '/v1/workspaces',
      headers: { authorization: `Bearer ${await userToken('owner', 'offline_access')}` },
    });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="gatehouse", error="invalid_token"/);
    expect(res.json().detail).toMatch(/api1 scope/);
  });
});
