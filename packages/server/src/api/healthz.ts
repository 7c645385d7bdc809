import type { FastifyInstance } from 'fastify';
import { statusSchema } from './status.ts';

/** `GET /healthz`: liveness, no I/O (also the benchmark baseline), never rate limited. */
export function healthzRoute(api: FastifyInstance): void {
  api.get(
    '/healthz',
    {
      schema: { ...statusSchema, summary: 'Liveness: answers without touching the database' },
      config: { rateLimit: false },
    },
    async () => ({
      status: 'ok',
    }),
  );
}
