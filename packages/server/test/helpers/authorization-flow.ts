import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { basicAuth, postForm } from './http.ts';

/** A browser's cookie store, enough for `inject`: name -> value, from Set-Cookie headers. */
export class CookieJar {
  readonly cookies = new Map<string, string>();

  store(response: LightMyRequestResponse): void {
    const header = response.headers['set-cookie'];
    for (const line of Array.isArray(header) ? header : header ? [header] : []) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (/max-age=0/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, decodeURIComponent(value));
    }
  }

  header(): Record<string, string> {
    if (!this.cookies.size) return {};
    return { cookie: [...this.cookies].map(([n, v]) => `${n}=${encodeURIComponent(v)}`).join('; ') };
  }
}

const ENTITIES: Record<string, string> = {
  '&amp;': '&',
  '&lt;': '<',
  '&gt;': '>',
  '&quot;': '"',
  '&#39;': "'",
  '&#96;': '`',
};
const decodeEntities = (text: string) => text.replace(/&(amp|lt|gt|quot|#39|#96);/g, (e) => ENTITIES[e] ?? e);

/** The hidden fields of the first form on a page whose action is `action`. */
export function hiddenFields(page: string, action: string): Record<string, string> {
  const start = page.indexOf(`action="${action}"`);
  if (start < 0) throw new Error(`no form posting to ${action}`);
  const form = page.slice(start, page.indexOf('</form>', start));
  const fields: Record<string, string> = {};
  for (const m of form.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) {
    fields[decodeEntities(m[1] ?? '')] = decodeEntities(m[2] ?? '');
  }
  return fields;
}

export function csrfOf(page: string): string {
  const match = /name="csrf_token" value="([^"]+)"/.exec(page);
  if (!match?.[1]) throw new Error('no CSRF token on the page');
  return match[1];
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** A user agent on an injected app: keeps cookies and posts forms like a browser. */
export class Browser {
  readonly jar = new CookieJar();
  constructor(readonly app: FastifyInstance) {}

  async get(url: string, headers: Record<string, string> = {}) {
    const res = await this.app.inject({ method: 'GET', url, headers: { ...this.jar.header(), ...headers } });
    this.jar.store(res);
    return res;
  }

  async post(url: string, form: Record<string, string>, headers: Record<string, string> = {}) {
    const res = await postForm(this.app, url, form, { ...this.jar.header(), ...headers });
    this.jar.store(res);
    return res;
  }

  /** Signs in through the sign-in page; returns the response of the form post. */
  async signIn(email: string, password: string, returnTo = '/console') {
    const page = await this.get(`/console/sign-in?${new URLSearchParams({ return_to: returnTo })}`);
    return this.post('/console/sign-in', {
      ...hiddenFields(page.body, '/console/sign-in'),
      email,
      password,
    });
  }

  /**
   * The whole front channel: authorize, sign in if asked, allow on the consent page if shown.
   * Returns the final redirect to the client (its Location parsed).
   */
  async authorize(query: Record<string, string>, user?: { email: string; password: string }) {
    let res = await this.get(`/connect/authorize?${new URLSearchParams(query)}`);
    if (res.statusCode === 303 && res.headers.location?.startsWith('/console/sign-in')) {
      if (!user) throw new Error('sign-in required');
      const page = await this.get(res.headers.location);
      res = await this.post('/console/sign-in', {
        ...hiddenFields(page.body, '/console/sign-in'),
        email: user.email,
        password: user.password,
      });
      if (res.statusCode !== 303) return { res, location: null };
      res = await this.get(res.headers.location as string);
    }
    if (res.statusCode === 200 && res.body.includes('action="/console/consent"')) {
      res = await this.post('/console/consent', {
        ...hiddenFields(res.body, '/console/consent'),
        decision: 'allow',
      });
    }
    const location = res.statusCode === 303 && res.headers.location ? new URL(res.headers.location) : null;
    return { res, location };
  }
}

/** A code for `clientId` from a signed-in browser (consenting if asked), or null when none was issued. */
export async function codeFor(
  browser: Browser,
  clientId: string,
  redirectUri = 'https://app.example/callback',
  scope = 'api1 offline_access',
): Promise<string> {
  const { location } = await browser.authorize({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirectUri,
    scope,
  });
  const code = location?.searchParams.get('code');
  if (!code) throw new Error('no code was issued');
  return code;
}

/** `POST /connect/token` with a form body and Basic client authentication. */
export function tokenRequest(
  app: FastifyInstance,
  client: { publicKey: string; privateKey: string },
  form: Record<string, string>,
) {
  return postForm(app, '/connect/token', form, {
    authorization: basicAuth(client.publicKey, client.privateKey),
  });
}

/**
 * `POST /connect/token` as a public client (RFC 6749 3.2.1, method `none`): its `client_id` in the
 * form and no secret at all.
 */
export function publicTokenRequest(
  app: FastifyInstance,
  clientId: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
) {
  return postForm(app, '/connect/token', { ...form, client_id: clientId }, headers);
}
