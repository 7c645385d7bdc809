import type { FastifyInstance, FastifyRequest } from 'fastify';
import { listTenantMembers } from '../../domain/members.ts';
import { principalOf } from '../../http/authenticate.ts';
import type { PageQuery } from '../../model/types.ts';
import { administrators } from '../guards.ts';
import { adminErrors, pageOf, pageQuerySchema, security } from '../schemas.ts';
import { memberView } from './view.ts';

async function list(request: FastifyRequest<{ Querystring: PageQuery }>) {
  const page = await listTenantMembers(
    request.server.services.db,
    principalOf(request).tenantId,
    request.query,
  );
  return { items: page.items.map(memberView), total: page.total };
}

/** `GET /v1/members`: the organization's members, by email; `q` searches email and name. */
export function listMembersRoute(api: FastifyInstance): void {
  api.get<{ Querystring: PageQuery }>(
    '/v1/members',
    {
      preHandler: administrators(),
      schema: {
        tags: ['Members'],
        summary: "List the organization's members",
        security,
        querystring: pageQuerySchema,
        response: { 200: pageOf('Member'), ...adminErrors },
      },
    },
    list,
  );
}
