import type { Span } from '@opentelemetry/api';

/**
 * Optional OpenTelemetry traces (issue 13, "Observability"). Off unless an OTLP endpoint is configured
 * (`OTEL_EXPORTER_OTLP_ENDPOINT`, see config.ts): then, and only then, the SDK is imported (dynamic
 * `import()`), so that the default path loads nothing and pays one null check per traced call.
 * This module knows neither Fastify nor Kysely: the HTTP layer opens a span per request
 * (http/tracing.ts), storage/ one per query (storage/query-spans.ts), and authentication and token
 * issuance one each, all through {@link traced}. Spans carry identifiers and outcomes, never a secret,
 * a query's parameters or an error's message (which may quote a value).
 */

/** An attribute value, as OpenTelemetry takes it. */
export type SpanValue = string | number | boolean;

/** What Gatehouse does with a span: attributes, a failure, its end. */
export interface TraceSpan {
  setAttribute(key: string, value: SpanValue): void;
  /** Marks the span failed (status ERROR, `error.type`): by the error's code or class, never its message. */
  fail(error: unknown): void;
  end(): void;
}

/** A span that code can run inside, so that the spans it opens are its children: a request's span. */
export interface ScopeSpan extends TraceSpan {
  run<T>(fn: () => T): T;
}

interface Tracer {
  inSpan<T>(
    name: string,
    attributes: Record<string, SpanValue>,
    fn: (span: TraceSpan) => Promise<T>,
  ): Promise<T>;
  scope(name: string, attributes: Record<string, SpanValue>, carrier: Record<string, unknown>): ScopeSpan;
  flush(): Promise<void>;
}

/** The span handed to traced code while tracing is off: does nothing, costs nothing. */
export const NO_SPAN: TraceSpan = Object.freeze({
  setAttribute() {},
  fail() {},
  end() {},
});

let tracer: Tracer | null = null;
let starting: Promise<void> | null = null;

/** Whether spans are being recorded (the SDK is loaded and registered). */
export function tracingActive(): boolean {
  return tracer !== null;
}

/**
 * Runs `fn` inside a span named `name`, child of the active one; without tracing, just runs it. The
 * span ends when `fn` settles, failed if it threw.
 */
export function traced<T>(
  name: string,
  attributes: Record<string, SpanValue>,
  fn: (span: TraceSpan) => Promise<T>,
): Promise<T> {
  return tracer ? tracer.inSpan(name, attributes, fn) : fn(NO_SPAN);
}

/**
 * Opens a server span that code can run inside (a request's), continuing the caller's trace when
 * `carrier` (the request headers) holds a W3C `traceparent`; null without tracing.
 */
export function scopeSpan(
  name: string,
  attributes: Record<string, SpanValue>,
  carrier: Record<string, unknown>,
): ScopeSpan | null {
  return tracer ? tracer.scope(name, attributes, carrier) : null;
}

/**
 * Loads the OpenTelemetry SDK and sends spans to `endpoint` (the OTLP/HTTP traces URL). Once per
 * process: the tracer provider is global, so later calls (other apps in the same process) share it.
 */
export function startTracing(endpoint: string): Promise<void> {
  starting ??= loadTracer(endpoint).then((loaded) => {
    tracer = loaded;
  });
  return starting;
}

/** Sends the spans still batched (an app closing): nothing is lost at shutdown. */
export async function flushTracing(): Promise<void> {
  await tracer?.flush();
}

/** `error.type` (OpenTelemetry semantic conventions): a code we chose, else the class name. */
function errorType(error: unknown): string {
  if (error && typeof error === 'object') {
    for (const field of ['error', 'code'] as const) {
      // Any object may be read by key; what is read is checked before use.
      const value = (error as Record<string, unknown>)[field];
      if (typeof value === 'string' && /^[\w.-]{1,64}$/.test(value)) return value;
    }
    if (error instanceof Error) return error.name;
  }
  return '_OTHER';
}

async function loadTracer(endpoint: string): Promise<Tracer> {
  const [api, node, otlp, resources] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
  ]);
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override the default name.
  const resource = resources
    .defaultResource()
    .merge(resources.resourceFromAttributes({ 'service.name': 'gatehouse' }))
    .merge(resources.detectResources({ detectors: [resources.envDetector] }));
  const exporter = new otlp.OTLPTraceExporter({ url: endpoint });
  const provider = new node.NodeTracerProvider({
    resource,
    spanProcessors: [new node.BatchSpanProcessor(exporter)],
  });
  // Global: the AsyncLocalStorage context manager, so that spans opened within a span are its children.
  provider.register();
  const otel = api.trace.getTracer('gatehouse');

  const wrap = (span: Span): TraceSpan => ({
    setAttribute: (key, value) => void span.setAttribute(key, value),
    fail(error) {
      const type = errorType(error);
      span.setAttribute('error.type', type);
      span.setStatus({ code: api.SpanStatusCode.ERROR, message: type });
    },
    end: () => span.end(),
  });

  return {
    inSpan(name, attributes, fn) {
      return otel.startActiveSpan(name, { attributes }, async (span) => {
        const handle = wrap(span);
        try {
          return await fn(handle);
        } catch (error) {
          handle.fail(error);
          throw error;
        } finally {
          span.end();
        }
      });
    },
    scope(name, attributes, carrier) {
      const parent = api.propagation.extract(api.ROOT_CONTEXT, carrier);
      const span = otel.startSpan(name, { kind: api.SpanKind.SERVER, attributes }, parent);
      const context = api.trace.setSpan(parent, span);
      return { ...wrap(span), run: (fn) => api.context.with(context, fn) };
    },
    flush: () => provider.forceFlush(),
  };
}
