import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/config.ts';

/** The headers every response carries, also those answered before any route is found. */
export function baseSecurityHeaders(config: Config): Record<string, string> {
  const headers: Record<string, string> = {
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
  if (config.mode === 'production')
    headers['strict-transport-security'] = 'max-age=31536000; includeSubDomains';
  return headers;
}

/**
 * Headers on every response. Set by hand rather than with helmet: the API answers JSON only,
 * so a handful of headers does the job at a fraction of the per-request cost; pages set their own CSP.
 */
export function securityHeaders(app: FastifyInstance): void {
  const headers = baseSecurityHeaders(app.services.config);
  app.addHook('onSend', async function addSecurityHeaders(_request, reply) {
    reply.headers(headers);
  });
}
