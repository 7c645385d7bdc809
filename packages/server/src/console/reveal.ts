import type { FastifyReply, FastifyRequest } from 'fastify';
import { KeyDecryptionError, open, seal } from '../domain/key-encryption.ts';
import { readCookie, writeCookie } from '../http/session/cookies.ts';

/**
 * A secret shown once (a new private key, a sign-in link), carried from the form that made it to the
 * page that shows it: a form post answers with a redirect (so that reloading never re-submits it), and
 * the secret rides along in a short-lived cookie, sealed with the server secret for that page and user
 * only. The page opens it and deletes it at once: a reload shows nothing. Never in a URL, never in a
 * log, never in the database, never cached (pages are `no-store`).
 */
const INFO = 'gatehouse console reveal v1';
const TTL_MS = 5 * 60_000;

export interface Revealed {
  /** What the secret is, e.g. `created` or `rotated`: the page words its notice by it. */
  kind: string;
  secret: string;
}

function context(path: string, userId: number): string {
  return `${userId}:${path}`;
}

/** Seals `revealed` for `path`, to be shown to `userId` only, within five minutes. */
export function stashSecret(reply: FastifyReply, path: string, userId: number, revealed: Revealed): void {
  const payload = JSON.stringify({ ...revealed, until: Date.now() + TTL_MS });
  writeCookie(
    reply,
    'reveal',
    seal(reply.server.services.config.secret, context(path, userId), payload, INFO),
    TTL_MS,
  );
}

/** The secret stashed for this page and user, if any; deleted as it is read. */
export function takeSecret(
  request: FastifyRequest,
  reply: FastifyReply,
  path: string,
  userId: number,
): Revealed | undefined {
  const envelope = readCookie(request, 'reveal');
  if (!envelope) return undefined;
  let payload: unknown;
  try {
    payload = JSON.parse(open(request.server.services.config.secret, context(path, userId), envelope, INFO));
  } catch (error) {
    // Another page's or user's secret (or a forged cookie): not this page's to show, nor to delete.
    if (error instanceof KeyDecryptionError || error instanceof SyntaxError) return undefined;
    throw error;
  }
  writeCookie(reply, 'reveal', '', 0);
  const { kind, secret, until } = payload as { kind?: unknown; secret?: unknown; until?: unknown };
  if (
    typeof kind !== 'string' ||
    typeof secret !== 'string' ||
    typeof until !== 'number' ||
    until < Date.now()
  )
    return undefined;
  return { kind, secret };
}
