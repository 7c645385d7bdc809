/**
 * The examples of the Dastra authentication page, run with curl against a listening Gatehouse with only
 * the host (and the key values) replaced: client code written from that page must work unchanged.
 *
 * Source: https://doc.dastra.eu/en/api-references/authentification (also /api-references/authentification
 * in French). Quoted from it: the X-API-Key `/me` curl, the authorize URL (`scope=api1+offline_access`,
 * `state`, no PKCE) and the client-credentials request (`POST /connect/token`, "Perform a token request
 * using BASIC Headers": `Authorization: Basic {base64("{PublicKey}:{PrivateKey}")}`, `grant_type=
 * client_credentials`, `scope=api1`), then the access token sent as a Bearer token to list the workspaces.
 * The page shows no Bearer curl and no response bodies: those forms and shapes are README.md's and
 * DESIGN.md section 1's.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hiddenFields } from '../helpers/authorization-flow.ts';
import { type ListeningTestApp, listenTestApp } from '../helpers/http.ts';
import { PASSWORD, type Seed, seed } from '../helpers/seed.ts';

const CURL = '/usr/bin/curl';
const REDIRECT = 'https://app.example/callback';
const WORKSPACE_FIELDS = [
  'id',
  'tenantId',
  'label',
  'logoUrl',
  'state',
  'permissions',
  'dataSubjectArchivedRetentionDays',
  'nbEntities',
];

interface CurlResponse {
  status: number;
  /** Lower-case names; a repeated header keeps its last value. */
  headers: Record<string, string>;
  body: string;
}

/**
 * Runs curl with `args` after `-sS -i` (quiet, and the response head printed before the body: they only
 * change what curl shows, not what it sends). A failure reports curl's exit code and stderr, never its
 * arguments, which hold keys.
 */
function curl(args: string[]): Promise<CurlResponse> {
  return new Promise((resolve, reject) => {
    const child = spawn(CURL, ['-sS', '-i', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`curl exited with ${code}: ${Buffer.concat(err).toString().trim()}`));
        return;
      }
      const raw = Buffer.concat(out).toString();
      const split = raw.indexOf('\r\n\r\n');
      const [statusLine = '', ...lines] = raw.slice(0, split).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: raw.slice(split + 4) });
    });
  });
}

/** `--data-urlencode` arguments for a form, as a browser would post it. */
const formArgs = (form: Record<string, string>) =>
  Object.entries(form).flatMap(([name, value]) => ['--data-urlencode', `${name}=${value}`]);

describe('the Dastra authentication page examples, run with curl against a listening server', () => {
  let server: ListeningTestApp;
  let base: string;
  let s: Seed;
  let jarDir: string;

  beforeAll(async () => {
    server = await listenTestApp('sqlite');
    base = server.issuer;
    s = await seed(server.app.services.db);
    jarDir = mkdtempSync(join(tmpdir(), 'gatehouse-curl-'));
  });
  afterAll(async () => {
    await server?.close();
    if (jarDir) rmSync(jarDir, { recursive: true, force: true });
  });

  /** The page's Basic header: base64 of "{PublicKey}:{PrivateKey}". */
  const basic = () =>
    `Authorization: Basic ${Buffer.from(`${s.orgKeyA.key.publicKey}:${s.orgKeyA.privateKey}`).toString('base64')}`;

  it('answers the X-API-Key /me example with the principal of the key', async () => {
    const res = await curl([
      '-X',
      'GET',
      `${base}/me`,
      '-H',
      'accept: */*',
      '-H',
      `X-API-Key: ${s.orgKeyA.privateKey}`,
    ]);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const me = JSON.parse(res.body);
    expect(me).toEqual({
      authMethod: 'apiKey',
      tenantId: s.a.tenantId,
      workspaceId: null,
      apiKey: { publicKey: s.orgKeyA.key.publicKey, label: 'A org key' },
      user: null,
      scope: 'api1',
      // Documented in README ("/me shows them").
      permissions: 'write',
    });
    expect(Object.keys(me).slice(0, 6)).toEqual([
      'authMethod',
      'tenantId',
      'workspaceId',
      'apiKey',
      'user',
      'scope',
    ]);
  });

  it('answers the examples without credentials with 401, WWW-Authenticate Bearer and a problem', async () => {
    for (const path of ['/me', '/v1/workspaces']) {
      const res = await curl(['-X', 'GET', `${base}${path}`, '-H', 'accept: */*']);
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="gatehouse"');
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(JSON.parse(res.body)).toMatchObject({
        status: 401,
        type: expect.any(String),
        title: expect.any(String),
      });
    }
  });

  it('issues exactly {access_token, expires_in, token_type, scope}, in that order and no-store, for the Basic client-credentials request', async () => {
    const res = await curl([
      '-X',
      'POST',
      `${base}/connect/token`,
      '-H',
      basic(),
      '-d',
      'grant_type=client_credentials&scope=api1',
    ]);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const token = JSON.parse(res.body);
    expect(Object.keys(token)).toEqual(['access_token', 'expires_in', 'token_type', 'scope']);
    expect(token).toEqual({
      access_token: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
      expires_in: 3600,
      token_type: 'Bearer',
      scope: 'api1',
    });
  });

  it('lists every workspace of the organization, with every documented field, to the Bearer token of the example', async () => {
    const issued = await curl([
      '-X',
      'POST',
      `${base}/connect/token`,
      '-H',
      basic(),
      '-d',
      'grant_type=client_credentials&scope=api1',
    ]);
    const { access_token: token } = JSON.parse(issued.body) as { access_token: string };
    const res = await curl([`${base}/v1/workspaces`, '-H', `Authorization: Bearer ${token}`]);
    expect(res.status).toBe(200);
    const list = JSON.parse(res.body) as { items: Record<string, unknown>[]; total: number };
    expect(Object.keys(list)).toEqual(['items', 'total']);
    expect(list.total).toBe(2);
    for (const item of list.items) expect(Object.keys(item)).toEqual(WORKSPACE_FIELDS);
    expect(list.items).toEqual([
      {
        id: s.a.mainWorkspaceId,
        tenantId: s.a.tenantId,
        label: 'Main',
        logoUrl: null,
        state: 'Active',
        permissions: null,
        dataSubjectArchivedRetentionDays: null,
        nbEntities: 0,
      },
      {
        id: s.a.secondWorkspaceId,
        tenantId: s.a.tenantId,
        label: 'Second',
        logoUrl: null,
        state: 'Active',
        permissions: null,
        dataSubjectArchivedRetentionDays: null,
        nbEntities: 0,
      },
    ]);
  });

  it('takes the authorize URL as printed (api1+offline_access, state, no PKCE) through sign-in and consent to a code that yields a refresh token', async () => {
    const jar = ['-b', join(jarDir, 'cookies.txt'), '-c', join(jarDir, 'cookies.txt')];
    const state = 'af0ifjsldkj';
    const authorizeUrl =
      `${base}/connect/authorize?` +
      'response_type=code&' +
      `client_id=${s.orgKeyA.key.publicKey}&` +
      `redirect_uri=${REDIRECT}&` +
      'scope=api1+offline_access&' +
      `state=${state}`;

    const authorize = await curl([...jar, authorizeUrl]);
    expect(authorize.status).toBe(303);
    const signInUrl = new URL(authorize.headers.location ?? '', base);
    expect(signInUrl.pathname).toBe('/console/sign-in');

    const signInPage = await curl([...jar, signInUrl.href]);
    expect(signInPage.status).toBe(200);
    const signedIn = await curl([
      ...jar,
      `${base}/console/sign-in`,
      ...formArgs({
        ...hiddenFields(signInPage.body, '/console/sign-in'),
        email: 'owner@a.test',
        password: PASSWORD,
      }),
    ]);
    expect(signedIn.status).toBe(303);

    const consentPage = await curl([...jar, new URL(signedIn.headers.location ?? '', base).href]);
    expect(consentPage.status).toBe(200);
    expect(consentPage.body).toContain('A org key');
    const allowed = await curl([
      ...jar,
      `${base}/console/consent`,
      ...formArgs({ ...hiddenFields(consentPage.body, '/console/consent'), decision: 'allow' }),
    ]);
    expect(allowed.status).toBe(303);
    const callback = new URL(allowed.headers.location ?? '');
    expect(`${callback.origin}${callback.pathname}`).toBe(REDIRECT);
    expect(callback.searchParams.get('state')).toBe(state);
    expect(callback.searchParams.get('iss')).toBe(base);
    const code = callback.searchParams.get('code') ?? '';
    expect(code).toMatch(/^[\w-]+$/);

    const exchanged = await curl([
      '-X',
      'POST',
      `${base}/connect/token`,
      '-H',
      basic(),
      '-d',
      `grant_type=authorization_code&code=${code}&redirect_uri=${REDIRECT}`,
    ]);
    expect(exchanged.status).toBe(200);
    expect(exchanged.headers['cache-control']).toBe('no-store');
    const tokens = JSON.parse(exchanged.body);
    // The order README.md prints.
    expect(Object.keys(tokens)).toEqual([
      'access_token',
      'expires_in',
      'token_type',
      'refresh_token',
      'scope',
    ]);
    expect(tokens).toMatchObject({
      expires_in: 3600,
      token_type: 'Bearer',
      refresh_token: expect.stringMatching(/^grt_/),
      scope: 'api1 offline_access',
    });

    const me = await curl([`${base}/me`, '-H', `Authorization: Bearer ${tokens.access_token}`]);
    expect(me.status).toBe(200);
    expect(JSON.parse(me.body)).toMatchObject({
      authMethod: 'bearer',
      tenantId: s.a.tenantId,
      user: { email: 'owner@a.test', role: 'owner' },
      scope: 'api1 offline_access',
    });

    const refreshed = await curl([
      '-X',
      'POST',
      `${base}/connect/token`,
      '-H',
      basic(),
      '-d',
      `grant_type=refresh_token&refresh_token=${tokens.refresh_token}`,
    ]);
    expect(refreshed.status).toBe(200);
    expect(JSON.parse(refreshed.body).refresh_token).toMatch(/^grt_/);
    expect(JSON.parse(refreshed.body).refresh_token).not.toBe(tokens.refresh_token);
  });
});
