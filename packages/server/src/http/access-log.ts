import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';

/**
 * Who made a request, as logs and traces name it: the tenant and the credential (an API key's public
 * key, which is its client_id and shown wherever the key is: never its private key), and the user of a
 * user token. Empty before authentication and for requests without a credential (pages, discovery).
 */
export interface RequestIdentity {
  tenantId?: number;
  credential?: string;
  userId?: number;
}

/** The identity `authenticate` (REST, userinfo) or `authenticateClient` (`/connect/*`) established. */
export function requestIdentity(request: FastifyRequest): RequestIdentity {
  const { principal, client } = request;
  if (principal) {
    return {
      tenantId: principal.tenantId,
      credential: principal.apiKey.publicKey,
      ...(principal.user ? { userId: principal.user.id } : {}),
    };
  }
  if (client) return { tenantId: client.tenantId, credential: client.publicKey };
  return {};
}

/** The levels at which info lines are written (the logger's level can change while it runs). */
const LOGS_INFO = new Set(['info', 'debug', 'trace']);

/**
 * One access-log line per request, once answered, in place of Fastify's two ("incoming request",
 * "request completed"): method, route pattern (never the raw URL, whose query may carry what a client
 * should not have sent), status, duration, the client address as Fastify resolved it
 * (`GATEHOUSE_TRUST_PROXY`), and {@link requestIdentity}; the request id is the logger's own binding
 * (`reqId`). No header is logged, so none can leak a secret. Nothing is built when the level is above
 * info. Fastify's log controller is where its own request lines are written, so replacing them there
 * keeps its other lines (stream errors, a failed serializer), which `disableRequestLogging` would drop.
 */
export class AccessLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    // The stub logger of an app that does not log has no level.
    if (!LOGS_INFO.has(request.log.level) && !error) return;
    const entry = accessEntry(request, reply);
    // A response that failed while being written (the client went away, a stream broke).
    if (error) request.log.error({ ...entry, err: error }, 'request errored');
    else request.log.info(entry, 'request completed');
  }
}

function accessEntry(request: FastifyRequest, reply: FastifyReply): Record<string, unknown> {
  return {
    method: request.method,
    route: request.routeOptions.url ?? 'unmatched',
    status: reply.statusCode,
    durationMs: Math.round(reply.elapsedTime * 10) / 10,
    ip: request.ip,
    ...requestIdentity(request),
  };
}
