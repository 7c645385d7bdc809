import type { FastifyInstance } from 'fastify';
import { auditEventRoutes } from './audit-events.ts';
import { entityRoutes } from './entities.ts';
import { meRoute } from './me.ts';
import { rateLimitingStateRoute } from './rate-limiting-state.ts';
import { entitySchema, principalSchema, problemSchema, workspaceSchema } from './schemas.ts';
import { statusRoutes } from './status.ts';
import { workspaceRoutes } from './workspaces.ts';

/** The REST API. */
export function apiRoutes(app: FastifyInstance): void {
  for (const schema of [problemSchema, workspaceSchema, entitySchema, principalSchema]) app.addSchema(schema);
  statusRoutes(app);
  meRoute(app);
  workspaceRoutes(app);
  entityRoutes(app);
  auditEventRoutes(app);
  rateLimitingStateRoute(app);
}
