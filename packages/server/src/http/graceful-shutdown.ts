import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** How a graceful stop ended: every request finished in time, or the timeout closed what was left. */
export type StopOutcome = 'drained' | 'forced';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Stops the server gracefully (SIGTERM, SIGINT): no new connection is accepted, requests in flight
     * finish, each on a connection that then closes; after `timeoutMs` the connections still open
     * are closed. Then the services flush their batched writes (last-used times, key usage) and close
     * the pools and Redis. Resolves once all of that is done; a second call returns the first's answer.
     */
    stopGracefully(timeoutMs: number): Promise<StopOutcome>;
  }
}

const delay = (ms: number) =>
  new Promise<void>((resolve) => {
    setTimeout(resolve, ms).unref();
  });

/**
 * Makes `app.stopGracefully` available. While the server stops, every answer carries `Connection:
 * close` (RFC 9112 9.6): Node keeps an idle keep-alive connection open after `server.close()`, so a
 * request that was in flight would otherwise hold its connection, and the stop, until the keep-alive
 * timeout. Requests that arrive on an open connection meanwhile are answered too (Fastify's
 * `return503OnClosing: false`, app.ts), in our formats, each closing its connection.
 */
export function gracefulShutdown(app: FastifyInstance): void {
  let stopping: Promise<StopOutcome> | undefined;
  let draining = false;
  app.addHook('onSend', async function closeWhileStopping(_request: FastifyRequest, reply: FastifyReply) {
    if (draining) reply.header('connection', 'close');
  });
  app.decorate('stopGracefully', function stopGracefully(timeoutMs: number): Promise<StopOutcome> {
    draining = true;
    stopping ??= stop(app, timeoutMs);
    return stopping;
  });
}

async function stop(app: FastifyInstance, timeoutMs: number): Promise<StopOutcome> {
  // `close` stops listening, waits for the connections to end, then runs the onClose hooks (services.ts).
  const closed = app.close().then(
    () => true,
    (error: unknown) => {
      app.log.error({ err: error }, 'closing failed');
      return true;
    },
  );
  if (await Promise.race([closed, delay(timeoutMs).then(() => false)])) return 'drained';
  app.log.error(
    `shutdown timeout (${timeoutMs / 1000} s, GATEHOUSE_SHUTDOWN_TIMEOUT) reached with requests in flight: closing their connections`,
  );
  app.server.closeAllConnections();
  // The batched writes are flushed after the connections close; a database that does not answer
  // fails them within its own timeouts, but the stop is bounded whatever happens.
  await Promise.race([closed, delay(timeoutMs)]);
  return 'forced';
}
