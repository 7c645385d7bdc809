import type { FastifyInstance } from 'fastify';
import { authenticated } from './guards.ts';
import { authErrors, security } from './schemas.ts';

/**
 * `GET /rate-limiting-state`: the caller's budget in the current one-minute window (DESIGN.md 3 rule 9).
 * The request itself counts, like any other API call, so `remaining` already excludes it.
 */
export function rateLimitingStateRoute(api: FastifyInstance): void {
  api.get(
    '/rate-limiting-state',
    {
      preHandler: authenticated(),
      schema: {
        tags: ['Identity'],
        summary: "The caller's rate-limit budget",
        security,
        response: {
          200: {
            type: 'object',
            properties: {
              limit: { type: 'integer', description: 'requests allowed per minute' },
              remaining: { type: 'integer', description: 'requests left in the current window' },
              resetAt: { type: 'string', format: 'date-time', description: 'end of the current window' },
            },
            required: ['limit', 'remaining', 'resetAt'],
          },
          ...authErrors,
        },
      },
    },
    async (request) => {
      const budget = await request.server.budgets.read(request);
      return {
        limit: budget.limit,
        remaining: budget.remaining,
        resetAt: new Date(budget.resetAt).toISOString(),
      };
    },
  );
}
