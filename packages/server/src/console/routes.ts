import { readFileSync } from 'node:fs';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { accountPageRoute } from './account/page.ts';
import { passwordFormRoute } from './account/password-form.ts';
import { profileFormRoute } from './account/profile-form.ts';
import { removeAccessFormRoute } from './account/remove-access-form.ts';
import { removeAccessRequestRoute } from './account/remove-access-request.ts';
import { apiKeyPages } from './api-keys/routes.ts';
import { auditPages } from './audit/routes.ts';
import { authorizeRoute } from './authorize.ts';
import { consentDecisionRoute } from './consent/decision.ts';
import { endSessionConfirmRoute, endSessionRoute } from './end-session/routes.ts';
import { answerPages } from './error-pages.ts';
import { homeRoute } from './home.ts';
import { SCRIPT_PATH, STYLESHEET_PATH } from './layout.ts';
import { memberPages } from './members/routes.ts';
import { signInPageRoute } from './sign-in/page.ts';
import { signInSubmitRoute } from './sign-in/submit.ts';
import { signOutRoute } from './sign-out.ts';
import { welcomePageRoute } from './welcome/page.ts';
import { welcomeSubmitRoute } from './welcome/submit.ts';
import { workspacePages } from './workspaces/routes.ts';

const STYLESHEET = readFileSync(new URL('./static/console.css', import.meta.url));
const SCRIPT = readFileSync(new URL('./static/console.js', import.meta.url));

async function stylesheet(_request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  return reply
    .headers({ 'content-type': 'text/css; charset=utf-8', 'cache-control': 'public, max-age=3600' })
    .send(STYLESHEET);
}

async function script(_request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  return reply
    .headers({ 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=3600' })
    .send(SCRIPT);
}

/**
 * The browser's pages: sign-in, consent, account, sign-out, the authorization and end-session
 * endpoints, the organization's console (API keys, workspaces, members, audit log), one stylesheet and one script. One encapsulated scope, so that every error here is an HTML page, and form bodies are
 * the only bodies accepted (anything else, JSON included, is a 415 page). Pages set their own strict
 * Content-Security-Policy (see layout.ts).
 */
const pagesScope: FastifyPluginAsync = async (pages) => {
  answerPages(pages);
  // Unsigned: the session cookie is a random token checked against the database, the CSRF token a MAC.
  await pages.register(cookie);
  pages.removeAllContentTypeParsers();
  await pages.register(formbody);
  pages.get(STYLESHEET_PATH, { schema: { hide: true } }, stylesheet);
  pages.get(SCRIPT_PATH, { schema: { hide: true } }, script);
  homeRoute(pages);
  apiKeyPages(pages);
  workspacePages(pages);
  memberPages(pages);
  auditPages(pages);
  signInPageRoute(pages);
  signInSubmitRoute(pages);
  signOutRoute(pages);
  accountPageRoute(pages);
  profileFormRoute(pages);
  passwordFormRoute(pages);
  removeAccessFormRoute(pages);
  removeAccessRequestRoute(pages);
  authorizeRoute(pages);
  consentDecisionRoute(pages);
  endSessionRoute(pages);
  endSessionConfirmRoute(pages);
  welcomePageRoute(pages);
  welcomeSubmitRoute(pages);
};

/** Registers the pages' scope. */
export async function consoleRoutes(app: FastifyInstance): Promise<void> {
  await app.register(pagesScope);
}
