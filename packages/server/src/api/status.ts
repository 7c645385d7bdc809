import type { FastifyInstance } from 'fastify';

export const statusSchema = {
  tags: ['Status'],
  summary: 'Service status, without authentication',
  response: { 200: { type: 'object', properties: { status: { type: 'string' } }, required: ['status'] } },
};

/** `GET /status`: the original API's unauthenticated status, never rate limited (probes poll it). */
export function statusRoute(api: FastifyInstance): void {
  api.get('/status', { schema: statusSchema, config: { rateLimit: false } }, async () => ({ status: 'ok' }));
}
