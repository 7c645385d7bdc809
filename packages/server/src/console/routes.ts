import { readFileSync } from 'node:fs';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { SignInThrottle } from '../domain/sign-in-throttle.ts';
import { authorizeRoutes } from '../oauth/authorize.ts';
import { consentDecisionRoute } from '../oauth/authorize-decision.ts';
import { accountRoutes } from './account.ts';
import { answerPages } from './error-pages.ts';
import { STYLESHEET_PATH } from './layout.ts';
import { signInRoutes } from './sign-in.ts';
import { signOutRoutes } from './sign-out.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** Sign-in budgets (shared by every instance through Redis when configured). */
    loginThrottle: SignInThrottle;
  }
}

const STYLESHEET = readFileSync(new URL('./static/console.css', import.meta.url));

/**
 * The browser's pages: sign-in, consent, account, sign-out, the authorization endpoint, and the one
 * stylesheet. One encapsulated scope, so that every error here is an HTML page, and form bodies are
 * the only bodies accepted (anything else, JSON included, is a 415 page). Pages set their own strict
 * Content-Security-Policy (see layout.ts).
 */
export async function consoleRoutes(app: FastifyInstance): Promise<void> {
  // Cookies are parsed for every route (the authorization endpoint reads the session too); unsigned:
  // the session cookie is a random token checked against the database, the CSRF token is a MAC.
  await app.register(cookie);
  const throttle = new SignInThrottle(app.services.counters);
  app.decorate('loginThrottle', throttle);
  const pageScope: FastifyPluginAsync = async (pages) => {
    answerPages(pages);
    pages.removeAllContentTypeParsers();
    await pages.register(formbody);
    pages.get(STYLESHEET_PATH, { schema: { hide: true } }, async (_request, reply) =>
      reply
        .headers({ 'content-type': 'text/css; charset=utf-8', 'cache-control': 'public, max-age=3600' })
        .send(STYLESHEET),
    );
    signInRoutes(pages, throttle);
    signOutRoutes(pages);
    accountRoutes(pages);
    authorizeRoutes(pages);
    consentDecisionRoute(pages);
  };
  await app.register(pageScope);
}
