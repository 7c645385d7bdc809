import type { FastifyInstance } from 'fastify';
import { readAuditLog } from '../domain/audit-log.ts';
import { principalOf } from '../http/authenticate.ts';
import { requireRole } from '../http/require-role.ts';
import type { PageQuery } from '../model/types.ts';
import { authenticated } from './guards.ts';
import { authErrors, pageOf, security } from './schemas.ts';

export const auditEventSchema = {
  $id: 'AuditEvent',
  type: 'object',
  properties: {
    id: { type: 'integer' },
    tenantId: { type: ['integer', 'null'] },
    actor: { type: 'string', description: '`cli`, `user:<id>`, `key:<public key>` or `anonymous`' },
    action: { type: 'string', description: 'for example `api_key.created`, `api_key.revoked`' },
    target: { type: ['string', 'null'] },
    ip: { type: ['string', 'null'] },
    details: { type: ['object', 'null'], additionalProperties: true },
    createdAt: { type: 'string', format: 'date-time' },
  },
  required: ['id', 'tenantId', 'actor', 'action', 'target', 'ip', 'details', 'createdAt'],
} as const;

const auditQuerySchema = {
  type: 'object',
  properties: {
    page: { type: 'integer', minimum: 1, maximum: 1_000_000, default: 1 },
    size: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
  },
} as const;

/**
 * `GET /v1/audit-events`: the organization's audit log, newest first, paginated like every list.
 * Organization-wide credentials only; a workspace-scoped key gets 404 (see `mayReadAuditLog`).
 */
export function listAuditEventsRoute(api: FastifyInstance): void {
  api.get<{ Querystring: PageQuery }>(
    '/v1/audit-events',
    {
      preHandler: authenticated(requireRole('owner', 'admin')),
      schema: {
        tags: ['Audit'],
        summary: "The organization's audit log, newest first",
        security,
        querystring: auditQuerySchema,
        response: { 200: pageOf('AuditEvent'), ...authErrors },
      },
    },
    async (request) => readAuditLog(request.server.services.db, principalOf(request), request.query),
  );
}
