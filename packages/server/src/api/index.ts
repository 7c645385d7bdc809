import type { FastifyInstance } from 'fastify';
import { corsForPrincipal } from '../http/cors.ts';
import { answerProblems } from '../http/error-handler.ts';
import { ADMIN_SCHEMAS } from './admin-schemas.ts';
import { createApiKeyRoute } from './api-keys/create.ts';
import { getApiKeyRoute } from './api-keys/get.ts';
import { listApiKeysRoute } from './api-keys/list.ts';
import { revokeApiKeyRoute } from './api-keys/revoke.ts';
import { rotateApiKeyRoute } from './api-keys/rotate.ts';
import { updateApiKeyRoute } from './api-keys/update.ts';
import { keyUsageRoute } from './api-keys/usage.ts';
import { auditEventSchema, listAuditEventsRoute } from './audit-events.ts';
import { createEntityRoute } from './entities/create.ts';
import { deleteEntityRoute } from './entities/delete.ts';
import { listEntitiesRoute } from './entities/list.ts';
import { healthzRoute } from './healthz.ts';
import { listMyConsentsRoute } from './me/consents.ts';
import { revokeMyConsentRoute } from './me/revoke-consent.ts';
import { meRoute } from './me.ts';
import { addMemberRoute } from './members/add.ts';
import { listMembersRoute } from './members/list.ts';
import { removeMemberRoute } from './members/remove.ts';
import { updateMemberRoute } from './members/update.ts';
import { rateLimitingStateRoute } from './rate-limiting-state.ts';
import { readyzRoute } from './readyz.ts';
import { entitySchema, principalSchema, problemSchema, workspaceSchema } from './schemas.ts';
import { statusRoute } from './status.ts';
import { createWorkspaceRoute } from './workspaces/create.ts';
import { getWorkspaceRoute } from './workspaces/get.ts';
import { listWorkspacesRoute } from './workspaces/list.ts';
import { updateWorkspaceRoute } from './workspaces/update.ts';

/** Every REST route, one file each. */
function restScope(api: FastifyInstance, _options: unknown, done: (error?: Error) => void): void {
  answerProblems(api);
  api.addHook('onSend', corsForPrincipal);
  statusRoute(api);
  healthzRoute(api);
  readyzRoute(api);
  meRoute(api);
  listWorkspacesRoute(api);
  getWorkspaceRoute(api);
  listEntitiesRoute(api);
  createEntityRoute(api);
  deleteEntityRoute(api);
  listAuditEventsRoute(api);
  rateLimitingStateRoute(api);
  // The admin API (DESIGN.md 1): admin credentials of the organization; anyone else gets 404.
  listApiKeysRoute(api);
  getApiKeyRoute(api);
  createApiKeyRoute(api);
  updateApiKeyRoute(api);
  rotateApiKeyRoute(api);
  revokeApiKeyRoute(api);
  keyUsageRoute(api);
  createWorkspaceRoute(api);
  updateWorkspaceRoute(api);
  listMembersRoute(api);
  addMemberRoute(api);
  updateMemberRoute(api);
  removeMemberRoute(api);
  listMyConsentsRoute(api);
  revokeMyConsentRoute(api);
  done();
}

/**
 * The REST API: one encapsulated scope whose errors are RFC 9457 problems. Its shared schemas are
 * added at the root, where the OpenAPI document resolves them.
 */
export async function apiRoutes(app: FastifyInstance): Promise<void> {
  const shared = [problemSchema, workspaceSchema, entitySchema, principalSchema, auditEventSchema];
  for (const schema of [...shared, ...ADMIN_SCHEMAS]) app.addSchema(schema);
  await app.register(restScope);
}
