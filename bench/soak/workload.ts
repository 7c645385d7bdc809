import { setTimeout as sleep } from 'node:timers/promises';
import { generatePrivateKey } from '../../packages/server/src/domain/key-format.ts';
import { basicHeader } from '../tokens.ts';
import { CookieJar, codeFlow, refresh } from './code-flow.ts';
import type { Http, RefusalBudget } from './http.ts';
import { type HeldToken, type Ledger, pick } from './ledger.ts';
import type { SoakClient, SoakSeed } from './seed.ts';

/** What every lane shares. */
export interface Workload {
  http: Http;
  seed: SoakSeed;
  ledger: Ledger;
  refusals: RefusalBudget;
  /** Epoch ms at which lanes stop starting new work. */
  until: number;
}

export const running = (w: Workload) => Date.now() < w.until;

interface Me {
  authMethod?: string;
  tenantId?: number;
  user?: { email?: string } | null;
}

/** Checks a `/me` answer: the right method and tenant (and person, for a user token). */
function checkMe(w: Workload, kind: 'meApiKey' | 'meBearer' | 'meUser' | 'keyUse', text: string, want: Me) {
  let me: Me;
  try {
    me = JSON.parse(text) as Me;
  } catch {
    return w.http.wrong(kind, 'answer is not JSON', text.slice(0, 120));
  }
  if (me.authMethod !== want.authMethod || me.tenantId !== want.tenantId)
    w.http.wrong(kind, 'another principal than the credential', `${me.authMethod} tenant ${me.tenantId}`);
  if (want.user && me.user?.email !== want.user.email)
    w.http.wrong(kind, 'another person than the one who signed in', String(me.user?.email));
}

/** `GET /me` and `GET /v1/workspaces` with X-API-Key, over the pool keys (whose secrets rotate). */
export async function apiKeyLane(w: Workload): Promise<void> {
  for (let i = 0; running(w); i++) {
    const client = pick(w.seed.pool);
    const headers = { 'x-api-key': client.privateKey };
    if (i % 2 === 0) {
      const answer = await w.http.send('meApiKey', '/me', { headers });
      if (answer.status === 200)
        checkMe(w, 'meApiKey', answer.text, { authMethod: 'apiKey', tenantId: w.seed.tenantA });
    } else {
      const answer = await w.http.send('workspacesApiKey', '/v1/workspaces?page=1&size=50', { headers });
      if (answer.status === 200 && !/"total":\d+/.test(answer.text))
        w.http.wrong('workspacesApiKey', 'no paged list', answer.text.slice(0, 120));
    }
  }
}

/** One client-credentials token, counted; null when none was issued. */
async function clientToken(w: Workload, client: SoakClient): Promise<HeldToken | null> {
  const answer = await w.http.send('tokenClientCredentials', '/connect/token', {
    headers: { authorization: basicHeader(client) },
    form: { grant_type: 'client_credentials', scope: 'api1' },
  });
  if (answer.status !== 200) return null;
  const token = w.http.json<{ access_token?: string }>('tokenClientCredentials', answer)?.access_token;
  if (!token) {
    w.http.wrong('tokenClientCredentials', 'no access_token', answer.text.slice(0, 120));
    return null;
  }
  w.ledger.issued.clientCredentials++;
  return { token, client };
}

/** Bearer calls with the pool of client-credentials tokens (reused, as real clients do). */
export async function bearerLane(w: Workload): Promise<void> {
  for (let i = 0; running(w); i++) {
    const held = w.ledger.tokenPool.length
      ? pick(w.ledger.tokenPool)
      : await clientToken(w, pick(w.seed.pool));
    if (!held) continue;
    const headers = { authorization: `Bearer ${held.token}` };
    if (i % 3 !== 2) {
      const answer = await w.http.send('meBearer', '/me', { headers });
      if (answer.status === 200)
        checkMe(w, 'meBearer', answer.text, { authMethod: 'bearer', tenantId: w.seed.tenantA });
    } else {
      await w.http.send('workspacesBearer', '/v1/workspaces?page=1&size=50', { headers });
    }
  }
}

/** Tries a credential that must now be refused (401), if the probes' budget allows it. */
export async function probe(
  w: Workload,
  kind: 'oldSecret' | 'revokedKey' | 'revokedToken',
  path: string,
  headers: Record<string, string>,
): Promise<void> {
  if (w.refusals.tryTake()) await w.http.send(kind, path, { headers });
}

/**
 * Client-credentials tokens for the Bearer pool; every 5th round an introspection of a pooled token
 * (it must be active), every 10th a token issued, used, revoked and tried again (it must fail at once).
 */
export async function tokenLane(w: Workload): Promise<void> {
  for (let i = 0; running(w); i++) {
    const held = await clientToken(w, pick(w.seed.pool));
    if (held) w.ledger.pool(held);
    if (i % 5 === 4 && w.ledger.tokenPool.length) {
      const target = pick(w.ledger.tokenPool);
      const answer = await w.http.send('introspect', '/connect/introspect', {
        headers: { authorization: basicHeader(target.client) },
        form: { token: target.token },
      });
      if (answer.status === 200 && w.http.json<{ active?: boolean }>('introspect', answer)?.active !== true)
        w.http.wrong('introspect', 'a live token introspects inactive', answer.text.slice(0, 120));
    }
    if (i % 10 === 9) {
      const victim = await clientToken(w, pick(w.seed.pool));
      if (!victim) continue;
      const bearer = { authorization: `Bearer ${victim.token}` };
      await w.http.send('meBearer', '/me', { headers: bearer });
      const revoked = await w.http.send('revokeAccess', '/connect/revocation', {
        headers: { authorization: basicHeader(victim.client) },
        form: { token: victim.token, token_type_hint: 'access_token' },
      });
      if (revoked.status !== 200) continue;
      w.ledger.revokedAccess.push(victim);
      await probe(w, 'revokedToken', '/me', bearer);
    }
  }
}

/** The greatest number of grants kept alive; beyond it the oldest is revoked. */
const FAMILIES = 30;

/** Revokes a grant by its refresh token, then tries its access token (it must fail at once). */
async function revokeFamily(w: Workload, index: number): Promise<void> {
  const family = w.ledger.families[index];
  if (!family) return;
  w.ledger.families.splice(index, 1);
  const answer = await w.http.send('revokeRefresh', '/connect/revocation', {
    headers: { authorization: basicHeader(family.client) },
    form: { token: family.refresh, token_type_hint: 'refresh_token' },
  });
  if (answer.status !== 200) return;
  w.ledger.acknowledged.familiesRevoked++;
  w.ledger.revokedRefresh.push(family.refresh);
  for (const token of family.access) w.ledger.revokedAccess.push({ token, client: family.client });
  const last = family.access.at(-1);
  if (last) await probe(w, 'revokedToken', '/me', { authorization: `Bearer ${last}` });
}

/**
 * People signing in to apps: the code flow (sign-in, consent, exchange with PKCE), then the app using
 * and refreshing its grant; now and then a grant is revoked through its refresh token.
 */
export async function codeFlowLane(w: Workload): Promise<void> {
  const jars = new Map<string, CookieJar>();
  while (running(w)) {
    const families = w.ledger.families;
    if (families.length < 5 || Math.random() < 0.4) {
      const user = pick(w.seed.users);
      const client = pick(w.seed.pool);
      // Half the time a new browser (sign-in), else the person's session from before.
      const jar = Math.random() < 0.5 ? new CookieJar() : (jars.get(user.email) ?? new CookieJar());
      jars.set(user.email, jar);
      const grant = await codeFlow(w.http, jar, client, user, { promptConsent: Math.random() < 0.5 });
      if (!grant) continue;
      w.ledger.issued.authorizationCode++;
      const me = await w.http.send('meUser', '/me', { headers: { authorization: `Bearer ${grant.access}` } });
      if (me.status === 200)
        checkMe(w, 'meUser', me.text, { authMethod: 'bearer', tenantId: w.seed.tenantA, user });
      families.push({ client, refresh: grant.refresh, superseded: [], access: [grant.access] });
      if (families.length > FAMILIES) await revokeFamily(w, 0);
      continue;
    }
    const index = Math.floor(Math.random() * families.length);
    const family = families[index];
    if (!family) continue;
    if (Math.random() < 0.15) {
      await revokeFamily(w, index);
      continue;
    }
    const next = await refresh(w.http, family.client, family.refresh);
    if (!next) continue;
    w.ledger.issued.refresh++;
    family.superseded.push(family.refresh);
    family.refresh = next.refresh;
    family.access.push(next.access);
    await w.http.send('meUser', '/me', { headers: { authorization: `Bearer ${next.access}` } });
  }
}

/** The refused lane sends one request this often: 15 a minute, beside the probes' own budget. */
export const REFUSED_EVERY_MS = 4000;

/**
 * Credentials that must be refused, at a steady {@link REFUSED_EVERY_MS}: a malformed key, a
 * well-formed key that does not exist, no credential at all.
 */
export async function refusedLane(w: Workload): Promise<void> {
  for (let i = 0; running(w); i++) {
    if (i % 3 === 0)
      await w.http.send('badKey', '/me', { headers: { 'x-api-key': `gsk_${'x'.repeat(49)}` } });
    else if (i % 3 === 1)
      await w.http.send('unknownKey', '/me', { headers: { 'x-api-key': generatePrivateKey() } });
    else await w.http.send('noCredential', '/v1/workspaces');
    await sleep(Math.max(0, Math.min(REFUSED_EVERY_MS, w.until - Date.now())));
  }
}
