import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { apiRoutes } from './api/index.ts';
import type { Config } from './config/config.ts';
import { errorPages } from './console/error-pages.ts';
import { consoleRoutes } from './console/routes.ts';
import { AccessLog } from './http/access-log.ts';
import { authentication } from './http/authenticate.ts';
import { answerPreflights } from './http/cors.ts';
import { answerUnrouted, clientErrorHandler, frameworkErrors } from './http/error-handler.ts';
import { gracefulShutdown } from './http/graceful-shutdown.ts';
import { inputGuard } from './http/input-guard.ts';
import { keyUsageCounting } from './http/key-usage.ts';
import { flushLogsNow, stdoutDestination } from './http/log-destination.ts';
import { metrics } from './http/metrics.ts';
import { openApi } from './http/openapi.ts';
import { rateLimits } from './http/rate-limit.ts';
import { securityHeaders } from './http/security-headers.ts';
import { requestTracing } from './http/tracing.ts';
import { transportRule } from './http/transport.ts';
import { oauthRoutes } from './oauth/routes.ts';
import { createServices, type ServiceOptions, type Services } from './services.ts';
import { isDatabaseUnavailable } from './storage/database.ts';
import { startTracing } from './telemetry/tracing.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** Built once, complete, before any route (services.ts). */
    services: Services;
  }
}

export interface AppOptions extends ServiceOptions {
  /** Log to stdout (the server) or not at all (tests, CLI). */
  logger?: boolean;
  /** Log to this stream instead of stdout (tests that read the log). */
  logStream?: { write(line: string): void };
}

/** Headers and body fields that carry secrets: never written to a log (DESIGN.md 3 rule 1). */
/** pino's level number of `warn`. */
const WARN_LEVEL = 40;

const REDACT = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
];

/**
 * Fastify's trust function for `GATEHOUSE_TRUST_PROXY`. A hop count trusts the peer (hop 0) and the
 * next `hops - 1` addresses of X-Forwarded-For from the right, so the client address is the one the
 * outermost proxy appended. (Fastify's own number form trusts nothing, by design of its authors.)
 */
function trustedProxies(
  setting: Config['trustProxy'],
): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof setting === 'number') return (_address, hop) => hop < setting;
  return typeof setting === 'object' ? [...setting] : setting;
}

/** Whether the app logs at all (else Fastify's logger is a stub without levels). */
function logs(options: AppOptions): boolean {
  return Boolean(options.logger || options.logStream);
}

/**
 * Fastify's settings: logging with secrets redacted, one access line per request instead of Fastify's
 * two (http/access-log.ts), case-insensitive paths, our request ids and error answers.
 */
function serverOptions(config: Config, options: AppOptions): FastifyServerOptions & { https?: object } {
  const server: FastifyServerOptions & { https?: object } = {
    logger: logs(options)
      ? {
          stream: options.logStream ?? stdoutDestination(),
          level: config.logLevel,
          // Warnings and errors are written at once, not with the next batch: an operator (or the
          // process's last moments) must not wait on them. They are rare; the access lines stay batched.
          hooks: {
            logMethod(args, method, level) {
              method.apply(this, args);
              if (level >= WARN_LEVEL) flushLogsNow();
            },
          },
          redact: { paths: REDACT, censor: '[redacted]' },
          // Paths only: a query string may carry what a misbehaving client should not have sent.
          serializers: {
            req: (req) => ({
              id: req.id,
              method: req.method,
              url: req.url?.split('?')[0] ?? '',
              ip: req.ip,
            }),
          },
        }
      : false,
    logController: new AccessLog(),
    // The original API's generated clients send `/v1/Workspaces`: paths match in any case (DESIGN.md 1).
    routerOptions: { caseSensitive: false },
    // An unknown field is refused (400 naming it), never silently dropped: Fastify's default strips it, so a
    // client that misspells a field would believe it was applied.
    ajv: { customOptions: { removeAdditional: false } },
    trustProxy: trustedProxies(config.trustProxy),
    bodyLimit: 64 * 1024,
    // Request ids are ours: a client-chosen id could forge log lines.
    requestIdHeader: false,
    genReqId: () => randomUUID(),
    // A path that is not valid percent-encoding never reaches a route: answered in our formats.
    frameworkErrors: frameworkErrors(errorPages),
    clientErrorHandler: clientErrorHandler(config, errorPages),
    // A request that arrives on an open connection while the server stops is answered (in our formats,
    // with `Connection: close`), not refused with Fastify's own 503 body (http/graceful-shutdown.ts).
    return503OnClosing: false,
  };
  if (config.tlsCert && config.tlsKey) {
    server.https = { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) };
  }
  return server;
}

/**
 * Logs the failed background jobs of an app. While the database is away every poll fails (several a
 * second): that is said once a minute, as a warning without a stack; the batched writes are kept.
 */
function backgroundErrorLog(logged: { app?: FastifyInstance }): (error: unknown) => void {
  let databaseWarnedAt = 0;
  return (error) => {
    const log = logged.app?.log;
    if (!isDatabaseUnavailable(error)) return void log?.error({ err: error }, 'background job failed');
    if (Date.now() - databaseWarnedAt < 60_000) return;
    databaseWarnedAt = Date.now();
    log?.warn(
      'The database is unreachable or cannot be written: background jobs retry and batched writes wait; requests that need it answer 503',
    );
  };
}

/** Builds the whole application without listening, so that tests can `inject`. */
export async function buildApp(config: Config, options: AppOptions = {}): Promise<FastifyInstance> {
  // Before the storage opens, so that its statements are traced too; loads nothing when not configured.
  if (config.tracesEndpoint) await startTracing(config.tracesEndpoint);
  // The logger exists once the app does; Redis can only go down after that.
  const logged: { app?: FastifyInstance } = {};
  const services = await createServices(config, {
    ...options,
    onRedisDown: () =>
      logged.app?.log.warn(
        'Redis is unreachable: rate limits, sign-in and failed-authentication budgets are counted per instance, in memory, until it is back',
      ),
    onRedisUp: () => logged.app?.log.info('Redis is reachable again: budgets are shared through it again'),
    onBackgroundError: backgroundErrorLog(logged),
  });
  try {
    // Typed as the plain HTTP instance: with TLS, Fastify serves the same request and reply API over https.Server.
    const app = Fastify(serverOptions(config, options));
    logged.app = app;
    await register(app, services);
    return app;
  } catch (error) {
    // Nothing is left running when the app cannot be built (a bad TLS file, a plugin that fails).
    await services.close();
    throw error;
  }
}

/**
 * The application's parts, in order: cross-cutting rules first (rate limits attach themselves to routes
 * as they are added), then three encapsulated scopes, each with its own error format, so that a
 * format follows from where a route is registered, never from the URL a client sent: the REST API
 * (RFC 9457 problems), the pages (HTML), and `/connect/*` (RFC 6749 JSON). What no route matches is
 * answered at the root, in the format of the family its path names.
 */
async function register(app: FastifyInstance, services: Services): Promise<void> {
  app.decorate('services', services);
  app.addHook('onClose', async function closeServices() {
    await services.close();
  });
  gracefulShutdown(app);
  // The start-up lines ("Server listening at …") are out at once, not with the next batch of log lines.
  app.addHook('onListen', function writeStartLines(done) {
    flushLogsNow();
    done();
  });
  // First: every later hook and handler of a request runs inside its span.
  requestTracing(app);
  authentication(app);
  keyUsageCounting(app);
  answerUnrouted(app, errorPages);
  securityHeaders(app);
  transportRule(app);
  inputGuard(app);
  metrics(app);
  answerPreflights(app);
  await rateLimits(app);
  await openApi(app);
  await apiRoutes(app);
  await consoleRoutes(app);
  await oauthRoutes(app);
}
