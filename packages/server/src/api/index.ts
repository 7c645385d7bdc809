import type { FastifyInstance } from 'fastify';
import { corsForPrincipal } from '../http/cors.ts';
import { answerProblems } from '../http/error-handler.ts';
import { auditEventSchema, listAuditEventsRoute } from './audit-events.ts';
import { createEntityRoute } from './entities/create.ts';
import { deleteEntityRoute } from './entities/delete.ts';
import { listEntitiesRoute } from './entities/list.ts';
import { healthzRoute } from './healthz.ts';
import { meRoute } from './me.ts';
import { rateLimitingStateRoute } from './rate-limiting-state.ts';
import { entitySchema, principalSchema, problemSchema, workspaceSchema } from './schemas.ts';
import { statusRoute } from './status.ts';
import { getWorkspaceRoute } from './workspaces/get.ts';
import { listWorkspacesRoute } from './workspaces/list.ts';

/** Every REST route, one file each. */
function restScope(api: FastifyInstance, _options: unknown, done: (error?: Error) => void): void {
  answerProblems(api);
  api.addHook('onSend', corsForPrincipal);
  statusRoute(api);
  healthzRoute(api);
  meRoute(api);
  listWorkspacesRoute(api);
  getWorkspaceRoute(api);
  listEntitiesRoute(api);
  createEntityRoute(api);
  deleteEntityRoute(api);
  listAuditEventsRoute(api);
  rateLimitingStateRoute(api);
  done();
}

/**
 * The REST API: one encapsulated scope whose errors are RFC 9457 problems. Its shared schemas are
 * added at the root, where the OpenAPI document resolves them.
 */
export async function apiRoutes(app: FastifyInstance): Promise<void> {
  for (const schema of [problemSchema, workspaceSchema, entitySchema, principalSchema, auditEventSchema])
    app.addSchema(schema);
  await app.register(restScope);
}
