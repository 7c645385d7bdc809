import { CLI_ACTOR } from '../../server/src/domain/audit.ts';
import { createWorkspace } from '../../server/src/domain/workspaces.ts';
import { Browser } from '../../server/test/helpers/authorization-flow.ts';
import { basicAuth, listenTestApp } from '../../server/test/helpers/http.ts';
import { PASSWORD, seed } from '../../server/test/helpers/seed.ts';
import type { DialectName } from '../../server/test/helpers/test-app.ts';
import { OAuthClient, type TokenSet } from '../src/index.ts';

/**
 * A real Gatehouse listening on a loopback port (the SDK talks HTTP, not `inject`), seeded. `env`
 * adds settings (`GATEHOUSE_RATE_LIMIT`...).
 */
export async function startServer(dialect: DialectName, env: Record<string, string> = {}) {
  const testApp = await listenTestApp(dialect, env);
  const seeded = await seed(testApp.storage.db);
  // Five more workspaces in tenant A (seven in all), so that lists span several pages.
  for (const label of ['Alpha', 'Bravo', 'Charlie', 'Delta', 'Echo']) {
    await createWorkspace(testApp.storage.db, seeded.a.tenantId, label, CLI_ACTOR);
  }
  return { baseUrl: testApp.issuer, app: testApp.app, seeded, close: () => testApp.close() };
}

export type SdkServer = Awaited<ReturnType<typeof startServer>>;

/** A fetch that records every URL and Authorization header it sends, for tests that count requests. */
export function recordingFetch() {
  const calls: { url: string; method: string; authorization: string | undefined }[] = [];
  const fetchImpl: typeof fetch = async (input, init) => {
    const headers = new Headers(init?.headers);
    calls.push({
      url: String(input),
      method: init?.method ?? 'GET',
      authorization: headers.get('authorization') ?? undefined,
    });
    return fetch(input, init);
  };
  const tokenCalls = () => calls.filter((c) => c.url.endsWith('/connect/token'));
  return { calls, tokenCalls, fetch: fetchImpl };
}

/** Revokes a token at `/connect/revocation` (RFC 7009), as the client that holds it. */
export async function revokeToken(
  baseUrl: string,
  client: { key: { publicKey: string }; privateKey: string },
  token: string,
): Promise<void> {
  const response = await fetch(`${baseUrl}/connect/revocation`, {
    method: 'POST',
    headers: {
      authorization: basicAuth(client.key.publicKey, client.privateKey),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ token }).toString(),
  });
  if (response.status !== 200) throw new Error(`revocation answered ${response.status}`);
}

/** The bearer token of a recorded call (`Authorization: Bearer <token>`). */
export const bearerOf = (call: { authorization: string | undefined } | undefined): string =>
  call?.authorization?.replace(/^Bearer /, '') ?? '';

/**
 * The tokens of tenant A's owner for its org key, through the SDK's authorization code helpers and a
 * browser that signs in and consents (`browser`: reuse one to sign in once).
 */
export async function personTokens(
  server: SdkServer,
  browser = new Browser(server.app),
  scope = 'api1 offline_access',
): Promise<TokenSet> {
  const { orgKeyA } = server.seeded;
  const redirectUri = 'https://app.example/callback';
  const oauth = new OAuthClient({
    baseUrl: server.baseUrl,
    clientId: orgKeyA.key.publicKey,
    clientSecret: orgKeyA.privateKey,
  });
  const { url, state, codeVerifier } = await oauth.createAuthorizationRequest({ redirectUri, scope });
  const query = Object.fromEntries(new URL(url).searchParams);
  const { location } = await browser.authorize(query, { email: 'owner@a.test', password: PASSWORD });
  if (!location) throw new Error('no redirect to the callback');
  return oauth.exchangeCode({ callbackUrl: location.href, state, codeVerifier, redirectUri });
}
