import { createHash, randomBytes } from 'node:crypto';
import { basicHeader } from '../tokens.ts';
import type { Answer, Http } from './http.ts';
import { REDIRECT_URI, type SoakClient, type SoakUser } from './seed.ts';

/** A browser's cookies for one origin: name -> value, from Set-Cookie. */
export class CookieJar {
  private readonly cookies = new Map<string, string>();

  store(answer: Answer): void {
    for (const line of answer.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (/max-age=0/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  header(): Record<string, string> {
    if (!this.cookies.size) return {};
    return { cookie: [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ') };
  }
}

const ENTITIES: Record<string, string> = {
  '&amp;': '&',
  '&lt;': '<',
  '&gt;': '>',
  '&quot;': '"',
  '&#39;': "'",
};
const decode = (text: string) => text.replace(/&(amp|lt|gt|quot|#39);/g, (e) => ENTITIES[e] ?? e);

/** The hidden fields of the form posting to `action`, or null when the page has no such form. */
function hiddenFields(page: string, action: string): Record<string, string> | null {
  const start = page.indexOf(`action="${action}"`);
  if (start < 0) return null;
  const form = page.slice(start, page.indexOf('</form>', start));
  const fields: Record<string, string> = {};
  for (const m of form.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g))
    fields[decode(m[1] ?? '')] = decode(m[2] ?? '');
  return fields;
}

/** Tokens of an authorization code grant. */
export interface Grant {
  access: string;
  refresh: string;
}

export interface FlowOptions {
  /** Ask for the consent page even when consent is remembered. */
  promptConsent: boolean;
}

/**
 * The whole front channel as a browser goes through it, then the code exchange: authorize, sign in
 * when there is no session (page, then form), consent when asked (form), and `POST /connect/token`
 * with the code and its PKCE verifier. Returns null when a step did not answer as a browser expects
 * (the step's answer is then counted as an error by its kind, or the step says what was wrong).
 */
export async function codeFlow(
  http: Http,
  jar: CookieJar,
  client: SoakClient,
  user: SoakUser,
  options: FlowOptions,
): Promise<Grant | null> {
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(12).toString('base64url');
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: client.publicKey,
    redirect_uri: REDIRECT_URI,
    scope: 'api1 offline_access',
    state,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    ...(options.promptConsent ? { prompt: 'consent' } : {}),
  });
  const get = async (kind: 'authorize' | 'signInPage', path: string) => {
    const answer = await http.send(kind, path, { headers: jar.header() });
    jar.store(answer);
    return answer;
  };
  const post = async (kind: 'signIn' | 'consent', path: string, form: Record<string, string>) => {
    const answer = await http.send(kind, path, { form, headers: jar.header() });
    jar.store(answer);
    return answer;
  };
  let answer = await get('authorize', `/connect/authorize?${query}`);
  const location = () => answer.headers.get('location') ?? '';
  if (answer.status === 303 && location().startsWith('/console/sign-in')) {
    const page = await get('signInPage', location());
    const fields = hiddenFields(page.text, '/console/sign-in');
    if (!fields) return wrong(http, 'signInPage', 'no sign-in form', page);
    answer = await post('signIn', '/console/sign-in', {
      ...fields,
      email: user.email,
      password: user.password,
    });
    if (answer.status !== 303) return null;
    answer = await get('authorize', location());
  }
  if (answer.status === 200) {
    const fields = hiddenFields(answer.text, '/console/consent');
    if (!fields) return wrong(http, 'authorize', 'a 200 page without the consent form', answer);
    answer = await post('consent', '/console/consent', { ...fields, decision: 'allow' });
  }
  if (answer.status !== 303) return null;
  const callback = URL.parse(location());
  if (!callback || `${callback.origin}${callback.pathname}` !== REDIRECT_URI)
    return wrong(http, 'consent', 'the last redirect does not lead to the client', answer);
  const code = callback.searchParams.get('code');
  if (!code || callback.searchParams.get('state') !== state)
    return wrong(http, 'consent', 'the redirect carries no code or another state', answer);
  const exchange = await http.send('tokenCode', '/connect/token', {
    headers: { authorization: basicHeader(client) },
    form: { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier },
  });
  if (exchange.status !== 200) return null;
  const body = http.json<{ access_token?: string; refresh_token?: string }>('tokenCode', exchange);
  if (!body?.access_token || !body.refresh_token)
    return wrong(http, 'tokenCode', 'no access or refresh token', exchange);
  return { access: body.access_token, refresh: body.refresh_token };
}

function wrong(
  http: Http,
  kind: 'signInPage' | 'authorize' | 'consent' | 'tokenCode',
  what: string,
  answer: Answer,
): null {
  // The redirect's path only: its query may carry a code, which no report should show.
  const where = answer.headers.get('location')?.split('?')[0];
  http.wrong(kind, what, `${answer.status} ${where ?? answer.text.slice(0, 120)}`);
  return null;
}

/** `grant_type=refresh_token`: the rotated pair, or null. */
export async function refresh(http: Http, client: SoakClient, token: string): Promise<Grant | null> {
  const answer = await http.send('tokenRefresh', '/connect/token', {
    headers: { authorization: basicHeader(client) },
    form: { grant_type: 'refresh_token', refresh_token: token },
  });
  if (answer.status !== 200) return null;
  const body = http.json<{ access_token?: string; refresh_token?: string }>('tokenRefresh', answer);
  if (!body?.access_token || !body.refresh_token || body.refresh_token === token) {
    http.wrong('tokenRefresh', 'no new refresh token', answer.text.slice(0, 120));
    return null;
  }
  return { access: body.access_token, refresh: body.refresh_token };
}
