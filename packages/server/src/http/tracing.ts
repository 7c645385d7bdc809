import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { flushTracing, type ScopeSpan, scopeSpan, tracingActive } from '../telemetry/tracing.ts';
import { requestIdentity } from './access-log.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's server span while tracing is on (telemetry/tracing.ts), ended once answered. */
    span: ScopeSpan | null;
  }
}

/**
 * A server span per request when OpenTelemetry tracing is on (nothing at all otherwise): named by
 * method and route pattern (OpenTelemetry HTTP semantic conventions), with the status, the client
 * address and {@link requestIdentity}, never the URL's query or a header. The spans of authentication,
 * token issuance and database statements opened while the request runs are its children: the rest of
 * the request runs inside its context, entered at `onRequest` and entered again at `preValidation`,
 * once the body is read, so that no body parser's asynchronous context can detach the handler's spans
 * from the request. Register before any other hook.
 */
export function requestTracing(app: FastifyInstance): void {
  if (!tracingActive()) return;
  app.decorateRequest('span', null);
  app.addHook('onRequest', function openSpan(request, reply, done) {
    const route = request.routeOptions.url;
    request.span = scopeSpan(
      route ? `${request.method} ${route}` : request.method,
      {
        'http.request.method': request.method,
        ...(route ? { 'http.route': route } : {}),
        'client.address': request.ip,
      },
      request.headers,
    );
    enterSpan(request, reply, done);
  });
  app.addHook('preValidation', enterSpan);
  app.addHook('onResponse', function closeSpan(request, reply, done) {
    endSpan(request, reply);
    done();
  });
  app.addHook('onRequestAbort', function abortSpan(request, done) {
    request.span?.setAttribute('gatehouse.aborted', true);
    endSpan(request, null);
    done();
  });
  // Spans still batched are sent before the app is gone.
  app.addHook('onClose', flushTracing);
}

/** Runs the rest of the request's hooks and handler inside its span: Fastify calls them from `done`. */
function enterSpan(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  if (request.span) request.span.run(done);
  else done();
}

function endSpan(request: FastifyRequest, reply: FastifyReply | null): void {
  const span = request.span;
  if (!span) return;
  request.span = null;
  if (reply) {
    span.setAttribute('http.response.status_code', reply.statusCode);
    // A server span fails on a 5xx only: a 4xx is the client's (OpenTelemetry HTTP conventions).
    if (reply.statusCode >= 500) span.fail({ code: String(reply.statusCode) });
  }
  const identity = requestIdentity(request);
  if (identity.tenantId !== undefined) span.setAttribute('gatehouse.tenant_id', identity.tenantId);
  if (identity.credential !== undefined) span.setAttribute('gatehouse.credential', identity.credential);
  span.end();
}
