import { readFileSync } from 'node:fs';
import cookie from '@fastify/cookie';
import type { FastifyInstance } from 'fastify';
import { consentDecisionRoute } from '../oauth/authorize-decision.ts';
import { accountRoutes } from './account.ts';
import { STYLESHEET_PATH } from './layout.ts';
import { LoginThrottle } from './login-throttle.ts';
import { signInRoutes } from './sign-in.ts';
import { signOutRoutes } from './sign-out.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** Sign-in failure counters of this instance. */
    loginThrottle: LoginThrottle;
  }
}

const STYLESHEET = readFileSync(new URL('./static/console.css', import.meta.url));

/**
 * The server-rendered pages: sign-in, consent, account, sign-out, and their one stylesheet.
 * Pages set their own strict Content-Security-Policy (see layout.ts).
 */
export async function consoleRoutes(app: FastifyInstance): Promise<void> {
  // Cookies are parsed for every route (the authorization endpoint reads the session too); unsigned:
  // the session cookie is a random token checked against the database, the CSRF token is a MAC.
  await app.register(cookie);
  const throttle = new LoginThrottle();
  app.decorate('loginThrottle', throttle);
  app.get(STYLESHEET_PATH, { schema: { hide: true } }, async (_request, reply) =>
    reply
      .headers({ 'content-type': 'text/css; charset=utf-8', 'cache-control': 'public, max-age=3600' })
      .send(STYLESHEET),
  );
  signInRoutes(app, throttle);
  signOutRoutes(app);
  accountRoutes(app);
  consentDecisionRoute(app);
}
