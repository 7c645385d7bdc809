import type { FastifyInstance, FastifyRequest } from 'fastify';
import { readAuditLog } from '../domain/audit-log.ts';
import { principalOf } from '../http/authenticate.ts';
import type { AuditRecord, Page, PageQuery } from '../model/types.ts';
import { administrators } from './guards.ts';
import { adminErrors, pageOf, security } from './schemas.ts';

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
    userAgent: { type: ['string', 'null'] },
    details: { type: ['object', 'null'], additionalProperties: true },
    createdAt: { type: 'string', format: 'date-time' },
  },
  required: ['id', 'tenantId', 'actor', 'action', 'target', 'ip', 'userAgent', 'details', 'createdAt'],
} as const;

const auditQuerySchema = {
  type: 'object',
  properties: {
    page: { type: 'integer', minimum: 1, maximum: 1_000_000, default: 1 },
    size: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
    action: { type: 'string', minLength: 1, maxLength: 100, description: 'for example `api_key.revoked`' },
    actor: {
      type: 'string',
      minLength: 1,
      maxLength: 200,
      description: 'for example `user:12` or `key:gpk_...`',
    },
    from: { type: 'string', format: 'date-time', description: 'events at or after this time' },
    to: { type: 'string', format: 'date-time', description: 'events before this time' },
  },
  additionalProperties: false,
} as const;

interface AuditQuery extends PageQuery {
  action?: string;
  actor?: string;
  from?: string;
  to?: string;
}

const time = (value: string | undefined) => (value === undefined ? undefined : Date.parse(value));

function readLog(request: FastifyRequest<{ Querystring: AuditQuery }>): Promise<Page<AuditRecord>> {
  const { action, actor, from, to, ...page } = request.query;
  const filter = { action, actor, from: time(from), to: time(to) };
  return readAuditLog(request.server.services.db, principalOf(request), page, filter);
}

/**
 * `GET /v1/audit-events`: the organization's audit log, newest first, paginated like every list and
 * filtered by action, actor and time. Part of the admin API: anyone else gets 404.
 */
export function listAuditEventsRoute(api: FastifyInstance): void {
  api.get<{ Querystring: AuditQuery }>(
    '/v1/audit-events',
    {
      preHandler: administrators(),
      schema: {
        tags: ['Audit'],
        summary: "The organization's audit log, newest first",
        security,
        querystring: auditQuerySchema,
        response: { 200: pageOf('AuditEvent'), ...adminErrors },
      },
    },
    readLog,
  );
}
