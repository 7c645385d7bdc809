import { isIP } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ProblemError } from '../errors/errors.ts';

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6 (`::ffff:127.0.0.1`). */
export function isLoopbackAddress(address: string): boolean {
  const ip = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (isIP(ip) === 4) return ip.startsWith('127.');
  return ip === '::1';
}

/**
 * Whether a request may carry a credential: an API key, an Authorization header (Bearer or Basic),
 * a session cookie, or a body (client secrets, codes, refresh tokens and passwords travel in forms).
 */
function carriesCredentials(request: FastifyRequest): boolean {
  const headers = request.headers;
  return (
    headers['x-api-key'] !== undefined ||
    headers.authorization !== undefined ||
    headers.cookie !== undefined ||
    headers['transfer-encoding'] !== undefined ||
    (headers['content-length'] !== undefined && headers['content-length'] !== '0')
  );
}

/**
 * Production transport rule (DESIGN.md 1 "Transport"): a credential received over plain HTTP from a
 * non-loopback client is refused, 403 `insecure_transport`. Behind a proxy (`GATEHOUSE_TRUST_PROXY`),
 * `request.protocol` and `request.ip` come from `X-Forwarded-Proto` and `X-Forwarded-For`. The credential
 * has already crossed the network in clear by then; refusing it still makes the mistake loud at once,
 * instead of a deployment that silently works over HTTP. HSTS is sent by `security-headers.ts`.
 */
export function transportRule(app: FastifyInstance): void {
  if (app.services.config.mode !== 'production') return;
  app.addHook('onRequest', async function refuseInsecureCredentials(request) {
    if (request.protocol === 'https' || !carriesCredentials(request) || isLoopbackAddress(request.ip)) return;
    // RFC 6749 3.1 and 3.2 require TLS at the authorization server too; each scope answers in its format.
    throw new ProblemError('insecure_transport', 'credentials must be sent over HTTPS');
  });
}
