import type { FastifyInstance } from 'fastify';

/**
 * Headers on every response. Set by hand rather than with helmet: the API answers JSON only,
 * so a handful of headers does the job at a fraction of the per-request cost; pages set their own CSP.
 */
export function securityHeaders(app: FastifyInstance): void {
  const production = app.services.config.mode === 'production';
  app.addHook('onSend', async (_request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    if (production) reply.header('strict-transport-security', 'max-age=31536000; includeSubDomains');
  });
}
