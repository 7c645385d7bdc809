import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * Swagger UI loads only its own files (no CDN, no inline script); its components set inline styles,
 * hence `'unsafe-inline'` for styles alone. It is never framed (no clickjacking of "Authorize").
 */
const SWAGGER_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/**
 * Never framed; and the plugin's own `static/index.html` redirect, which rewrites the request URL
 * (case-sensitively, query included, absolute-form host included: a loop or an open redirect), is
 * answered here with a fixed target instead.
 */
async function swaggerHooks(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  reply.header('x-frame-options', 'DENY');
  // Returning the reply ends the request here (Fastify's early answer from an async hook).
  if (request.routeOptions.url?.endsWith('/static/index.html')) return reply.redirect('/swagger/');
  return undefined;
}

/**
 * OpenAPI document built from the route schemas, at `/swagger/v1/swagger.json`,
 * and Swagger UI at `/swagger/index.html`, the paths of the original API.
 */
export async function openApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Gatehouse API',
        version: '1.0.0',
        description: 'Authenticate with X-API-Key or an OAuth2 Bearer token.',
      },
      servers: [{ url: app.services.config.issuer }],
      components: {
        securitySchemes: {
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        },
      },
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  await app.register(swaggerUi, {
    routePrefix: '/swagger',
    uiConfig: { url: '/swagger/v1/swagger.json' },
    staticCSP: SWAGGER_CSP,
    uiHooks: { onRequest: swaggerHooks },
  });
  app.get('/swagger/v1/swagger.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/swagger/index.html', { schema: { hide: true } }, async (_request, reply) =>
    reply.redirect('/swagger/static/index.html'),
  );
}
