import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { addMember, getMember } from '../../domain/members.ts';
import { signInLinkUrl } from '../../domain/sign-in-links.ts';
import { actorOf } from '../../http/actor.ts';
import { principalOf } from '../../http/authenticate.ts';
import type { Role } from '../../model/types.ts';
import { administrators } from '../guards.ts';
import { adminErrors, security } from '../schemas.ts';
import { memberView } from './view.ts';

interface Body {
  email: string;
  displayName?: string | null;
  role: Role;
  workspaceIds?: number[];
  password?: string;
}

const body = {
  type: 'object',
  properties: {
    email: { type: 'string', minLength: 3, maxLength: 254 },
    displayName: { type: ['string', 'null'], minLength: 1, maxLength: 200 },
    role: { type: 'string', enum: ['owner', 'admin', 'member'] },
    workspaceIds: {
      type: 'array',
      maxItems: 500,
      items: { type: 'integer', minimum: 1, maximum: 2_147_483_647 },
      description: 'Limits a member to these workspaces; none: every workspace',
    },
    password: {
      type: 'string',
      minLength: 1,
      maxLength: 1024,
      description: 'For a new account only; without it, the answer carries a one-time sign-in link',
    },
  },
  required: ['email', 'role'],
  additionalProperties: false,
} as const;

async function add(request: FastifyRequest<{ Body: Body }>, reply: FastifyReply): Promise<FastifyReply> {
  const { services } = request.server;
  const { tenantId } = principalOf(request);
  const added = await addMember(services.db, { ...request.body, tenantId }, actorOf(request));
  const member = await getMember(services.db, tenantId, added.user.id);
  const view = {
    ...memberView(member),
    created: added.created,
    ...(added.signInToken ? { signInLink: signInLinkUrl(services.config.issuer, added.signInToken) } : {}),
  };
  // A sign-in link is a credential, in this answer only.
  return reply.code(201).header('cache-control', 'no-store').send(view);
}

/**
 * `POST /v1/members`: adds a person. An existing account joins as it is (its password stays its own);
 * a new one gets the given password, or else a one-time sign-in link (24 h). Only an owner adds an owner.
 */
export function addMemberRoute(api: FastifyInstance): void {
  api.post<{ Body: Body }>(
    '/v1/members',
    {
      preHandler: administrators(),
      schema: {
        tags: ['Members'],
        summary: 'Add a member (a new account without a password gets a one-time sign-in link)',
        security,
        body,
        response: {
          201: { $ref: 'AddedMember#' },
          403: { $ref: 'Problem#' },
          409: { $ref: 'Problem#' },
          // Every new account's password is hashed, in a bounded number of slots (domain/passwords.ts).
          503: { $ref: 'Problem#' },
          ...adminErrors,
        },
      },
    },
    add,
  );
}
