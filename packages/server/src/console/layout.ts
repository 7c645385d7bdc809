import type { FastifyReply } from 'fastify';
import { html, type SafeHtml } from './html.ts';

export const STYLESHEET_PATH = '/console/static/console.css';
export const SCRIPT_PATH = '/console/static/console.js';

/**
 * DESIGN.md 3 rule 8: styles only from our own stylesheet, forms post only to us, never framed, no
 * `<base>`. No script at all, except on the organization's pages, which may load our one same-origin
 * file (the copy buttons; every page works without it): never inline, never from elsewhere.
 */
export function contentSecurityPolicy(formTargets: string[] = [], script = false): string {
  const formAction = ["'self'", ...formTargets].join(' ');
  const scriptSrc = script ? "script-src 'self'; connect-src 'none'; " : '';
  return `default-src 'none'; ${scriptSrc}style-src 'self'; img-src 'self'; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`;
}

export const CONTENT_SECURITY_POLICY = contentSecurityPolicy();

const CSP_ORIGIN = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$|^http:\/\/\[::1\](:\d{1,5})?$/;

/**
 * The origin a page's form may end up at, for its `form-action`: browsers (Chromium at least) apply
 * `form-action` to every redirect that follows a form post, so the sign-in and consent forms, whose
 * 303s lead on to the client, must name the origin of its redirect URI. Only ever called with a
 * redirect URI that matched a registered one; anything that is not a plain origin is left out.
 */
export function formTargetOf(redirectUri: string): string[] {
  const origin = new URL(redirectUri).origin;
  return CSP_ORIGIN.test(origin) ? [origin] : [];
}

export interface PageOptions {
  title: string;
  body: SafeHtml;
  status?: number;
  /** The whole document, when the page has a frame of its own (the organization's pages). */
  document?: SafeHtml;
  /** Whether the page loads the console's script (see {@link contentSecurityPolicy}). */
  script?: boolean;
  /** Origins besides our own that the page's forms may be redirected to (see {@link formTargetOf}). */
  formTargets?: string[];
}

/**
 * The frame of every page: small, readable on a phone, one stylesheet, no script. The referrer policy
 * is `same-origin` rather than the API's `no-referrer`: no Referer still leaves for another site, and
 * the browser names our origin on our own form posts (under no-referrer it sends `Origin: null`).
 */
export function layout(title: string, body: SafeHtml): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${title} · Gatehouse</title>
<link rel="stylesheet" href="${STYLESHEET_PATH}">
</head>
<body>
<main class="card">
<p class="brand" aria-hidden="true">Gatehouse</p>
${body}
</main>
</body>
</html>
`;
}

/** Sends a page with the console's security headers; pages carry CSRF tokens, so nothing caches them. */
export function sendPage(reply: FastifyReply, page: PageOptions): FastifyReply {
  return reply
    .code(page.status ?? 200)
    .headers({
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': contentSecurityPolicy(page.formTargets, page.script),
      'cache-control': 'no-store',
      'x-frame-options': 'DENY',
    })
    .send((page.document ?? layout(page.title, page.body)).value);
}

/** A page that explains a problem and offers no way onward (a bad link, a refused request). */
export function sendErrorPage(
  reply: FastifyReply,
  status: number,
  title: string,
  message: string,
  headers: Record<string, string> = {},
): FastifyReply {
  reply.headers(headers);
  return sendPage(reply, {
    status,
    title,
    body: html`<h1>${title}</h1>
<p class="error" role="alert">${message}</p>`,
  });
}
