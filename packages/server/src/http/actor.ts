import type { FastifyRequest } from 'fastify';
import { type Actor, keyActor, userActor } from '../domain/audit.ts';
import { principalOf } from './authenticate.ts';

/** User agents are recorded for the audit log, cut to a length no log line needs more of. */
const MAX_USER_AGENT = 512;

/**
 * Who makes a change through the API, as the audit log records it (user or key, address, user agent),
 * and what they may do: an owner or an admin; a key acting for itself is named, so that it cannot
 * rotate or revoke itself. Only call after `authenticate`.
 */
export function actorOf(request: FastifyRequest): Actor {
  const principal = principalOf(request);
  const userAgent = request.headers['user-agent']?.slice(0, MAX_USER_AGENT) ?? null;
  const { user } = principal;
  if (user) {
    const role = user.role === 'owner' ? 'owner' : 'admin';
    return { ...userActor(user.id, request.ip), userAgent, authority: { role, keyId: null } };
  }
  const key = principal.apiKey;
  return { ...keyActor(key.publicKey, request.ip), userAgent, authority: { role: 'admin', keyId: key.id } };
}
