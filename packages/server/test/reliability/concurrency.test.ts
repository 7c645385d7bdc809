import { Agent, type IncomingHttpHeaders, request } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { hashSecret } from '../../src/domain/secrets.ts';
import { Browser, codeFor, tokenRequest } from '../helpers/authorization-flow.ts';
import { countStatuses, releaseMany } from '../helpers/concurrent.ts';
import { basicAuth, type ListeningTestApp, listenTestApp } from '../helpers/http.ts';
import { PASSWORD, type Seed, seed } from '../helpers/seed.ts';
import { describeEachDialect } from '../helpers/test-app.ts';
import { OAUTH_ENV } from '../oauth/oauth-helpers.ts';

const RACERS = 100;
const REDIRECT = 'https://app.example/callback';

interface Answer {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: string;
  // biome-ignore lint/suspicious/noExplicitAny: a parsed JSON answer, read by assertions only.
  json(): any;
}

/**
 * An HTTP/1.1 client over a fixed number of kept-alive sockets to one server, all connected before a
 * race: every request of the race then goes out on a socket that is already open, written in the
 * same tick as the others, so that the server reads them together instead of one handshake apart.
 */
class SocketPool {
  private readonly agent: Agent;

  constructor(
    private readonly origin: string,
    readonly size: number,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets: size, maxFreeSockets: size });
  }

  /** Connects `size` sockets (one request each, all at once) and checks that they are all open and idle. */
  async open(): Promise<void> {
    await Promise.all(Array.from({ length: this.size }, () => this.send('GET', '/healthz')));
    const idle = Object.values(this.agent.freeSockets).reduce((n, sockets) => n + (sockets?.length ?? 0), 0);
    if (idle !== this.size) throw new Error(`${idle} idle sockets, not ${this.size}`);
  }

  send(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const length = body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) };
      const req = request(
        new URL(path, this.origin),
        { method, agent: this.agent, headers: { ...headers, ...length } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({
              statusCode: res.statusCode ?? 0,
              headers: res.headers,
              body: text,
              json: () => JSON.parse(text),
            });
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

describeEachDialect(
  `${RACERS} concurrent uses of one single-use credential, over real sockets`,
  (dialect) => {
    let t: ListeningTestApp;
    let s: Seed;
    let pool: SocketPool;
    let owner: Browser;
    let client: { publicKey: string; privateKey: string };

    beforeAll(async () => {
      t = await listenTestApp(dialect, OAUTH_ENV);
      s = await seed(t.app.services.db);
      client = { publicKey: s.orgKeyA.key.publicKey, privateKey: s.orgKeyA.privateKey };
      owner = new Browser(t.app);
      expect((await owner.signIn('owner@a.test', PASSWORD)).statusCode).toBe(303);
      pool = new SocketPool(`http://127.0.0.1:${t.port}`, RACERS);
    });
    afterAll(async () => {
      pool?.close();
      await t?.close();
    });

    const db = () => t.app.services.db;
    const tokenForm = (form: Record<string, string>) =>
      pool.send(
        'POST',
        '/connect/token',
        {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: basicAuth(client.publicKey, client.privateKey),
        },
        new URLSearchParams(form).toString(),
      );
    const me = (headers: Record<string, string>) => pool.send('GET', '/me', headers);
    const auditCount = async (action: string, where: { family?: string; target?: string }) => {
      let query = db()
        .selectFrom('audit_events')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('action', '=', action);
      if (where.family) query = query.where('details', 'like', `%${where.family}%`);
      if (where.target) query = query.where('target', '=', where.target);
      return Number((await query.executeTakeFirstOrThrow()).n);
    };
    /** The access tokens recorded for a grant, and whether each is on the denylist table. */
    const grantAccessTokens = (familyId: string) =>
      db()
        .selectFrom('grant_access_tokens as g')
        .leftJoin('revoked_tokens as r', 'r.jti', 'g.jti')
        .select(['g.jti', 'r.jti as revokedJti'])
        .where('g.family_id', '=', familyId)
        .execute();

    /*
     * What the losers of a refresh race cause. A refresh token presented after its rotation revokes its
     * whole family (DESIGN.md 3 rule 6, RFC 9700 4.14.2), and a request that loses the race cannot tell
     * a copy sent at the same moment from a replay: so the first losers revoke the family, the winner's
     * new tokens with it, and audit `refresh_token.reused`; losers that read the token after that find it
     * revoked and audit nothing. Every loser answers invalid_grant.
     */
    it(`${RACERS} refreshes of one refresh token: one 200 and the only successor, ${RACERS - 1} invalid_grant, and the family revoked with every token issued from it`, async () => {
      const grant = await tokenRequest(t.app, client, {
        grant_type: 'authorization_code',
        code: await codeFor(owner, client.publicKey),
        redirect_uri: REDIRECT,
      });
      expect(grant.statusCode, grant.body).toBe(200);
      const { refresh_token: presented, access_token: firstAccess } = grant.json();
      await pool.open();

      const answers = await releaseMany(RACERS, () =>
        tokenForm({ grant_type: 'refresh_token', refresh_token: presented }),
      );

      expect(countStatuses(answers)).toEqual({ 200: 1, 400: RACERS - 1 });
      const winner = answers.find((a) => a.statusCode === 200)?.json();
      const losers = answers.filter((a) => a.statusCode === 400).map((a) => a.json());
      const reused = losers.filter(
        (l) => l.error_description === 'the refresh token was already used; its whole family is revoked',
      ).length;
      const foundRevoked = losers.filter(
        (l) => l.error_description === 'the refresh token was revoked',
      ).length;
      expect(losers.every((l) => l.error === 'invalid_grant')).toBe(true);
      expect(reused).toBeGreaterThanOrEqual(1);
      expect(reused + foundRevoked).toBe(RACERS - 1);

      // One successor, the winner's, child of the presented token; the whole family revoked.
      const parent = await db()
        .selectFrom('refresh_tokens')
        .selectAll()
        .where('token_hash', '=', hashSecret(presented))
        .executeTakeFirstOrThrow();
      const family = await db()
        .selectFrom('refresh_tokens')
        .selectAll()
        .where('family_id', '=', parent.family_id)
        .orderBy('id')
        .execute();
      expect(family.map((r) => r.token_hash)).toEqual([
        hashSecret(presented),
        hashSecret(winner.refresh_token),
      ]);
      expect(family[1]?.parent_id).toBe(parent.id);
      expect(parent.rotated_at).not.toBeNull();
      expect(family.every((r) => r.revoked_at !== null)).toBe(true);
      // Access tokens issued once per successful use (the exchange and the winner), both denylisted.
      const accessTokens = await grantAccessTokens(parent.family_id);
      expect(accessTokens).toHaveLength(2);
      expect(accessTokens.every((a) => a.revokedJti === a.jti)).toBe(true);
      expect(await auditCount('refresh_token.reused', { family: parent.family_id })).toBe(reused);

      // Through the API: nothing of the family works any more.
      expect(
        (await tokenForm({ grant_type: 'refresh_token', refresh_token: winner.refresh_token })).json(),
      ).toEqual({
        error: 'invalid_grant',
        error_description: 'the refresh token was revoked',
      });
      for (const token of [firstAccess, winner.access_token])
        expect((await me({ authorization: `Bearer ${token}` })).statusCode).toBe(401);
    });

    /*
     * Rotations sent together leave one new secret (src/domain/api-keys.ts: "a key never has two new
     * secrets"), however the server happens to schedule them: each caller that gets a 200 deploys the
     * secret it was shown, so a second 200 would hand out a secret that dies with the grace period.
     * On SQLite every request runs from start to end before the next one is read (its driver is
     * synchronous), so requests that overlap in the event loop cannot be what detects the race.
     * Known defect on SQLite (issue 16): all of them succeed, one after the other. `it.fails` keeps it in
     * view: this test turns red the day the fix lands, and must then become a plain `it`.
     */
    (dialect === 'sqlite' ? it.fails : it)(
      `${RACERS} rotations of one API key: one 200 with the only new secret, ${RACERS - 1} 409 conflict, and the old secret in its grace period`,
      async () => {
        const created = await t.app.inject({
          method: 'POST',
          url: '/v1/api-keys',
          headers: { 'x-api-key': s.adminKeyA.privateKey },
          payload: { label: 'rotated by a crowd' },
        });
        expect(created.statusCode, created.body).toBe(201);
        const { publicKey, privateKey: oldSecret } = created.json();
        expect((await me({ 'x-api-key': oldSecret })).statusCode).toBe(200);
        await pool.open();
        const body = JSON.stringify({ graceSeconds: 60 });

        const answers = await releaseMany(RACERS, () =>
          pool.send(
            'POST',
            `/v1/api-keys/${publicKey}/rotate`,
            { 'content-type': 'application/json', 'x-api-key': s.adminKeyA.privateKey },
            body,
          ),
        );

        expect(countStatuses(answers)).toEqual({ 200: 1, 409: RACERS - 1 });
        for (const loser of answers.filter((a) => a.statusCode === 409)) {
          expect(loser.headers['content-type']).toMatch(/^application\/problem\+json/);
          expect(loser.json()).toMatchObject({ status: 409, code: 'conflict' });
        }
        const newSecret: string = answers.find((a) => a.statusCode === 200)?.json().privateKey;

        // Two secrets in all: the old one, ending with its grace, and the one new secret, current.
        const keyRow = await db()
          .selectFrom('api_keys')
          .select('id')
          .where('public_key', '=', publicKey)
          .executeTakeFirstOrThrow();
        const secrets = await db()
          .selectFrom('api_key_secrets')
          .select(['secret_hash', 'expires_at'])
          .where('api_key_id', '=', keyRow.id)
          .orderBy('id')
          .execute();
        expect(secrets.map((r) => r.secret_hash)).toEqual([hashSecret(oldSecret), hashSecret(newSecret)]);
        expect(secrets[0]?.expires_at).toBeGreaterThan(Date.now());
        expect(secrets[0]?.expires_at).toBeLessThanOrEqual(Date.now() + 60_000);
        expect(secrets[1]?.expires_at).toBeNull();
        expect(await auditCount('api_key.rotated', { target: publicKey })).toBe(1);

        expect((await me({ 'x-api-key': newSecret })).statusCode).toBe(200);
        expect((await me({ 'x-api-key': oldSecret })).statusCode).toBe(200);
      },
    );

    /*
     * What the losers of a code race cause: a code presented after its exchange revokes everything
     * issued from it (DESIGN.md 1, RFC 9700 4.2.4), whether it comes a second later or in the same
     * millisecond. Every loser answers invalid_grant and audits `authorization_code.replayed`.
     */
    it(`${RACERS} exchanges of one authorization code: one 200, ${RACERS - 1} invalid_grant, the tokens issued once and revoked, each replay audited`, async () => {
      const code = await codeFor(owner, client.publicKey);
      await pool.open();

      const answers = await releaseMany(RACERS, () =>
        tokenForm({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT }),
      );

      expect(countStatuses(answers)).toEqual({ 200: 1, 400: RACERS - 1 });
      for (const loser of answers.filter((a) => a.statusCode === 400))
        expect(loser.json()).toEqual({
          error: 'invalid_grant',
          error_description: 'the authorization code was already used; the tokens issued from it are revoked',
        });
      const winner = answers.find((a) => a.statusCode === 200)?.json();

      const redeemed = await db()
        .selectFrom('authorization_codes')
        .select(['consumed_at', 'family_id'])
        .where('code_hash', '=', hashSecret(code))
        .executeTakeFirstOrThrow();
      expect(redeemed.consumed_at).not.toBeNull();
      const familyId = redeemed.family_id ?? '';
      // Issued once: one refresh token and one access token for the code, both revoked.
      const refreshTokens = await db()
        .selectFrom('refresh_tokens')
        .select(['token_hash', 'revoked_at'])
        .where('family_id', '=', familyId)
        .execute();
      expect(refreshTokens).toEqual([
        { token_hash: hashSecret(winner.refresh_token), revoked_at: expect.any(Number) },
      ]);
      const accessTokens = await grantAccessTokens(familyId);
      expect(accessTokens).toHaveLength(1);
      expect(accessTokens[0]?.revokedJti).toBe(accessTokens[0]?.jti);
      expect(await auditCount('authorization_code.replayed', { family: familyId })).toBe(RACERS - 1);

      expect((await me({ authorization: `Bearer ${winner.access_token}` })).statusCode).toBe(401);
      expect(
        (await tokenForm({ grant_type: 'refresh_token', refresh_token: winner.refresh_token })).json(),
      ).toEqual({
        error: 'invalid_grant',
        error_description: 'the refresh token was revoked',
      });
    });
  },
);
