import type { FastifyReply } from 'fastify';
import { html, type SafeHtml } from './html.ts';

export const STYLESHEET_PATH = '/console/static/console.css';

/**
 * DESIGN.md 3 rule 8: no script at all, styles only from our own stylesheet, forms post only to us,
 * never framed. A 303 from our own form handler carries the browser on to the client's redirect URI.
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export interface PageOptions {
  title: string;
  body: SafeHtml;
  status?: number;
}

/** The frame of every page: small, readable on a phone, one stylesheet, no script. */
export function layout(title: string, body: SafeHtml): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
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
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'cache-control': 'no-store',
      'x-frame-options': 'DENY',
    })
    .send(layout(page.title, page.body).value);
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
