import plugin from '@fastify/swagger-ui';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { DOCUMENT_PATH, LOGO_SVG, START_SCRIPT, STYLESHEET, swaggerPage } from './swagger-ui-assets.ts';

/** Swagger UI's OAuth2 pop-up page, a file of the plugin: register its URL on a key to use Authorize. */
export const OAUTH2_REDIRECT_PATH = '/swagger/static/oauth2-redirect.html';
const PAGE_PATH = '/swagger/index.html';

/**
 * Swagger UI loads only our files and the plugin's (no CDN, no inline script); its components set
 * inline styles, hence `'unsafe-inline'` for styles alone. Its requests go to this origin only, and it
 * is never framed (no clickjacking of "Authorize").
 */
const SWAGGER_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

const PAGE = swaggerPage(OAUTH2_REDIRECT_PATH);

/** Every answer of the reference: its CSP, never framed. */
async function referenceHeaders(_request: FastifyRequest, reply: FastifyReply): Promise<void> {
  reply.header('content-security-policy', SWAGGER_CSP).header('x-frame-options', 'DENY');
}

function sendPage(reply: FastifyReply): FastifyReply {
  return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(PAGE);
}

/**
 * The plugin's own pages answered our way, with fixed targets: `/swagger` redirects to the page,
 * `/swagger/` is the page, and `static/index.html` (whose stock redirect rewrites the request URL
 * case-sensitively, query and absolute-form host included: a loop or an open redirect) goes to
 * `/swagger/`. The stock page is never served: it would start the stock UI with its branding.
 */
async function ownPages(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  const route = request.routeOptions.url ?? '';
  // Returning the reply ends the request here (Fastify's early answer from an async hook).
  if (route.endsWith('/static/index.html')) return reply.redirect('/swagger/');
  if (route === '/swagger' || route === '/swagger/') {
    const path = request.url.split('?', 1)[0] ?? '';
    return path.endsWith('/') ? sendPage(reply) : reply.redirect(PAGE_PATH);
  }
  return undefined;
}

/**
 * The API reference: Swagger UI at `/swagger/index.html` (the URL the original API's documentation
 * links), Gatehouse's page and theme around the files of the installed `@fastify/swagger-ui`, and the
 * document at `/swagger/v1/swagger.json`. One encapsulated scope, so that its CSP covers exactly it.
 */
const referenceScope: FastifyPluginAsync = async (reference) => {
  reference.addHook('onRequest', referenceHeaders);
  await reference.register(plugin, {
    routePrefix: '/swagger',
    // Ours, not the stock one, in the plugin's own start-up script too (our page starts the UI itself).
    logo: { type: 'image/svg+xml', content: LOGO_SVG },
    theme: {
      title: 'Gatehouse API',
      css: [{ filename: 'gatehouse.css', content: STYLESHEET }],
      js: [{ filename: 'gatehouse.js', content: START_SCRIPT }],
      favicon: [
        { filename: 'favicon.svg', rel: 'icon', sizes: 'any', type: 'image/svg+xml', content: LOGO_SVG },
      ],
    },
    uiHooks: { onRequest: ownPages },
  });
  reference.get(PAGE_PATH, { schema: { hide: true } }, async (_request, reply) => sendPage(reply));
  reference.get(DOCUMENT_PATH, { schema: { hide: true } }, async () => reference.swagger());
};

/** Registers the API reference (see {@link referenceScope}); after `@fastify/swagger`. */
export async function swaggerUi(app: FastifyInstance): Promise<void> {
  await app.register(referenceScope);
}
