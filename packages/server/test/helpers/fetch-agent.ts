import { hiddenFields } from './authorization-flow.ts';

/** A user agent over plain fetch, for flows against a real listening server. */
export class FetchAgent {
  private readonly cookies = new Map<string, string>();

  private keep(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      if (/max-age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, pair.slice(eq + 1));
    }
  }

  async request(url: string, form?: Record<string, string>): Promise<Response> {
    const headers: Record<string, string> = {
      cookie: [...this.cookies].map(([n, v]) => `${n}=${v}`).join('; '),
    };
    const init: RequestInit = { redirect: 'manual', headers };
    if (form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers.origin = new URL(url).origin;
      Object.assign(init, { method: 'POST', body: new URLSearchParams(form) });
    }
    const res = await fetch(url, init);
    this.keep(res);
    return res;
  }

  /** Follows same-server redirects; stops at the first redirect that leaves `origin`. */
  async follow(start: Response, origin: string): Promise<{ page: Response | null; leftFor: URL | null }> {
    let res = start;
    while (res.status === 303 || res.status === 302) {
      const next = new URL(res.headers.get('location') as string, origin);
      if (next.origin !== origin) return { page: null, leftFor: next };
      res = await this.request(next.href);
    }
    return { page: res, leftFor: null };
  }

  /**
   * The person's part of an authorization request: open the URL, sign in when asked, allow when asked.
   * Returns where the server sent the browser back (the client's redirect URI), and the consent page's text.
   */
  async authorize(
    authorizationUrl: string,
    issuer: string,
    user: { email: string; password: string },
  ): Promise<{ callback: URL; consentHtml: string | null }> {
    let { page, leftFor } = await this.follow(await this.request(authorizationUrl), issuer);
    let consentHtml: string | null = null;
    while (page) {
      const body = await page.text();
      if (body.includes('action="/console/sign-in"')) {
        const signedIn = await this.request(`${issuer}/console/sign-in`, {
          ...hiddenFields(body, '/console/sign-in'),
          email: user.email,
          password: user.password,
        });
        ({ page, leftFor } = await this.follow(signedIn, issuer));
      } else if (body.includes('action="/console/consent"')) {
        consentHtml = body;
        const decided = await this.request(`${issuer}/console/consent`, {
          ...hiddenFields(body, '/console/consent'),
          decision: 'allow',
        });
        ({ page, leftFor } = await this.follow(decided, issuer));
      } else {
        throw new Error(`unexpected page during authorization: ${page.status} ${body.slice(0, 200)}`);
      }
    }
    if (!leftFor) throw new Error('the authorization ended without a redirect');
    return { callback: leftFor, consentHtml };
  }
}
