import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { checkReadiness, type Readiness } from '../domain/readiness.ts';
import { sendProblem } from '../http/error-handler.ts';

/** Each dependency and whether it answered, as `/readyz` shows it (also on its 503 problem). */
const checksSchema = {
  type: 'object',
  description: 'Each dependency and whether it answered within 500 ms; `redis` only when one is configured',
  properties: {
    database: { type: 'string', enum: ['up', 'down'] },
    redis: { type: 'string', enum: ['up', 'down'] },
  },
  required: ['database'],
} as const;

const readySchema = {
  type: 'object',
  properties: { status: { type: 'string', enum: ['ready'] }, checks: checksSchema },
  required: ['status', 'checks'],
  example: { status: 'ready', checks: { database: 'up', redis: 'up' } },
} as const;

/** `database is unreachable`, `database and redis are unreachable`. */
function whatIsDown(readiness: Readiness): string {
  const names = readiness.down.join(' and ');
  return `${names} ${readiness.down.length > 1 ? 'are' : 'is'} unreachable`;
}

async function answerReadiness(request: FastifyRequest, reply: FastifyReply) {
  const { storage, redis } = request.server.services;
  const readiness = await checkReadiness({ storage, redis });
  // A probe's answer is about this moment: never stored by a cache between the prober and us.
  void reply.header('cache-control', 'no-store');
  if (readiness.ready) return { status: 'ready', checks: readiness.checks };
  return sendProblem(reply, 'service_unavailable', whatIsDown(readiness), {}, [], {
    checks: readiness.checks,
  });
}

/**
 * `GET /readyz`: readiness, for a load balancer or an orchestrator. 200 when the database and, when
 * configured, Redis each answer within 500 ms; otherwise a 503 problem naming what is down. Never
 * rate limited (probes poll it), never cached. `/healthz` stays liveness, without I/O: an instance
 * whose database is away is alive (restarting it would not help) but should get no traffic.
 */
export function readyzRoute(api: FastifyInstance): void {
  api.get(
    '/readyz',
    {
      schema: {
        tags: ['Status'],
        summary: 'Readiness: the database and Redis (when configured) answer',
        response: { 200: readySchema, 503: { $ref: 'Problem#' } },
      },
      config: { rateLimit: false },
    },
    answerReadiness,
  );
}
