import type { FastifyInstance } from 'fastify';

/** Unauthenticated liveness: `/status` (the original API's) and `/healthz` (no I/O, the benchmark baseline). */
export function statusRoutes(app: FastifyInstance): void {
  const schema = {
    tags: ['Status'],
    summary: 'Service status, without authentication',
    response: { 200: { type: 'object', properties: { status: { type: 'string' } }, required: ['status'] } },
  };
  app.get('/status', { schema }, async () => ({ status: 'ok' }));
  app.get('/healthz', { schema: { ...schema, hide: true } }, async () => ({ status: 'ok' }));
}
