import { once } from 'node:events';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { tracingActive } from '../../src/telemetry/tracing.ts';
import { basicAuth, eventually, listenTestApp, postForm } from '../helpers/http.ts';
import { seed } from '../helpers/seed.ts';
import { createTestApp, describeEachDialect } from '../helpers/test-app.ts';
import { OAUTH_ENV } from '../oauth/oauth-helpers.ts';

// Which OpenTelemetry SDK packages were imported, by anyone: the mocks record it and pass the real module on.
const imported = vi.hoisted(() => new Set<string>());
vi.mock('@opentelemetry/sdk-trace-node', async (original) => {
  imported.add('@opentelemetry/sdk-trace-node');
  return original();
});
vi.mock('@opentelemetry/exporter-trace-otlp-http', async (original) => {
  imported.add('@opentelemetry/exporter-trace-otlp-http');
  return original();
});
vi.mock('@opentelemetry/resources', async (original) => {
  imported.add('@opentelemetry/resources');
  return original();
});

/** An OTLP attribute as the JSON encoding carries it (OTLP specification, "JSON Protobuf Encoding"). */
interface OtlpAttribute {
  key: string;
  value: { stringValue?: string; intValue?: number | string; boolValue?: boolean };
}

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: OtlpAttribute[];
  status?: { code?: number };
}

interface ExportRequest {
  resourceSpans: { resource: { attributes: OtlpAttribute[] }; scopeSpans: { spans: OtlpSpan[] }[] }[];
}

/** A tiny OTLP/HTTP collector on the loopback: keeps every request posted to /v1/traces. */
class Collector {
  readonly bodies: string[] = [];
  readonly paths: string[] = [];
  private readonly server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      this.paths.push(`${request.method} ${request.url} ${request.headers['content-type']}`);
      this.bodies.push(Buffer.concat(chunks).toString('utf8'));
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });

  async start(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }

  /** Every span received since the `from`th request, with the resource's `service.name`. */
  spans(from: number): (OtlpSpan & { service: string | undefined })[] {
    return this.bodies.slice(from).flatMap((body) =>
      (JSON.parse(body) as ExportRequest).resourceSpans.flatMap((resourceSpans) => {
        const service = stringAttribute(resourceSpans.resource.attributes, 'service.name');
        return resourceSpans.scopeSpans.flatMap((scope) => scope.spans.map((span) => ({ ...span, service })));
      }),
    );
  }
}

/**
 * POSTs a form whose body leaves a moment after the headers, as a slow client's would: the server
 * then reads it in the socket's asynchronous context, not the request's.
 */
async function postLater(
  url: string,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  const request = httpRequest(url, {
    method: 'POST',
    headers: {
      ...headers,
      'content-type': 'application/x-www-form-urlencoded',
      'content-length': String(Buffer.byteLength(body)),
    },
  });
  request.flushHeaders();
  await new Promise((resolve) => setTimeout(resolve, 50));
  request.end(body);
  const [response] = (await once(request, 'response')) as [import('node:http').IncomingMessage];
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return { status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') };
}

function attribute(attributes: OtlpAttribute[], key: string): OtlpAttribute['value'] | undefined {
  return attributes.find((entry) => entry.key === key)?.value;
}

function stringAttribute(attributes: OtlpAttribute[], key: string): string | undefined {
  return attribute(attributes, key)?.stringValue;
}

/**
 * Issue 13, "Observability": optional OpenTelemetry traces, off unless `OTEL_EXPORTER_OTLP_ENDPOINT` is
 * set. Off, the SDK is never imported; on, a request's spans (the request, authentication, token
 * issuance, each database statement) reach the OTLP endpoint, as children of the request's span, with
 * no secret in them. The tracer provider is global to the process, so the test that needs it off runs first.
 */
describe('OpenTelemetry traces, not configured', () => {
  it('loads no SDK and records nothing', async () => {
    const t = await createTestApp('sqlite', OAUTH_ENV);
    try {
      const s = await seed(t.app.services.db);
      const res = await postForm(
        t.app,
        '/connect/token',
        { grant_type: 'client_credentials' },
        { authorization: basicAuth(s.orgKeyA.key.publicKey, s.orgKeyA.privateKey) },
      );
      expect(res.statusCode).toBe(200);
      expect(tracingActive()).toBe(false);
      expect([...imported]).toEqual([]);
    } finally {
      await t.close();
    }
  });
});

const collector = new Collector();
let endpoint = '';
beforeAll(async () => {
  endpoint = await collector.start();
});
afterAll(async () => {
  await collector.stop();
});

describeEachDialect('OpenTelemetry traces, sent to OTLP_EXPORTER_OTLP_ENDPOINT', (dialect) => {
  it('sends the spans of a request, nested under it, with no secret, once the SDK is loaded', async () => {
    // Over real sockets: a request body arrives in the socket's own asynchronous context.
    const t = await listenTestApp(dialect, { ...OAUTH_ENV, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint });
    let secrets: string[] = [];
    const received = collector.bodies.length;
    try {
      expect(tracingActive()).toBe(true);
      expect([...imported].sort()).toEqual([
        '@opentelemetry/exporter-trace-otlp-http',
        '@opentelemetry/resources',
        '@opentelemetry/sdk-trace-node',
      ]);
      const s = await seed(t.app.services.db);
      const issued = await postLater(`${t.issuer}/connect/token`, 'grant_type=client_credentials', {
        authorization: basicAuth(s.orgKeyA.key.publicKey, s.orgKeyA.privateKey),
      });
      expect(issued.status).toBe(200);
      const token = (JSON.parse(issued.body) as { access_token: string }).access_token;
      // A caller's W3C trace context (traceparent) is continued.
      const me = await fetch(`${t.issuer}/me`, {
        headers: {
          authorization: `Bearer ${token}`,
          traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        },
      });
      expect(me.status).toBe(200);
      const refused = await fetch(`${t.issuer}/v1/workspaces`, { headers: { 'x-api-key': 'not-a-key' } });
      expect(refused.status).toBe(401);
      secrets = [s.orgKeyA.privateKey, token, token.split('.')[2] ?? 'missing'];
    } finally {
      // Closing the app sends what is still batched.
      await t.close();
    }
    expect(await eventually(async () => collector.bodies.length > received)).toBe(true);
    expect(collector.paths.at(-1)).toMatch(/^POST \/v1\/traces application\/json/);
    const spans = collector.spans(received);
    expect(new Set(spans.map((span) => span.service))).toEqual(new Set(['gatehouse']));

    const only = (name: string) => {
      const found = spans.filter((span) => span.name === name);
      expect(found, `spans named ${name}`).toHaveLength(1);
      return found[0] as OtlpSpan;
    };
    const tokenRequest = only('POST /connect/token');
    expect(tokenRequest.kind).toBe(2); // SERVER
    expect(Number(attribute(tokenRequest.attributes, 'http.response.status_code')?.intValue)).toBe(200);
    expect(stringAttribute(tokenRequest.attributes, 'http.route')).toBe('/connect/token');
    const clientAuth = only('gatehouse.authenticate_client');
    const issuance = only('gatehouse.token');
    for (const child of [clientAuth, issuance]) {
      expect(child.traceId).toBe(tokenRequest.traceId);
      expect(child.parentSpanId).toBe(tokenRequest.spanId);
    }
    expect(stringAttribute(issuance.attributes, 'oauth.grant_type')).toBe('client_credentials');
    // The client was not cached yet: its lookup is a statement inside the client's authentication.
    const statements = spans.filter(
      (span) => span.traceId === tokenRequest.traceId && span.name === 'SELECT',
    );
    expect(statements.length).toBeGreaterThan(0);
    const system = dialect === 'postgres' ? 'postgresql' : 'sqlite';
    for (const statement of statements) {
      expect(stringAttribute(statement.attributes, 'db.system.name')).toBe(system);
      expect(stringAttribute(statement.attributes, 'db.query.text')).toMatch(/^select /i);
    }
    expect(statements.some((statement) => statement.parentSpanId === clientAuth.spanId)).toBe(true);

    const meRequest = only('GET /me');
    expect(meRequest.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(meRequest.parentSpanId).toBe('b7ad6b7169203331');
    const bearerCheck = spans.find(
      (span) => span.name === 'gatehouse.authenticate' && span.traceId === meRequest.traceId,
    );
    expect(bearerCheck?.parentSpanId).toBe(meRequest.spanId);
    expect(stringAttribute(bearerCheck?.attributes ?? [], 'gatehouse.auth.outcome')).toBe('valid');
    expect(stringAttribute(meRequest.attributes, 'gatehouse.credential')).toBe(
      stringAttribute(tokenRequest.attributes, 'gatehouse.credential'),
    );

    const refusedRequest = only('GET /v1/workspaces');
    expect(Number(attribute(refusedRequest.attributes, 'http.response.status_code')?.intValue)).toBe(401);
    // A 4xx is the client's: the request span is not failed.
    expect(refusedRequest.status?.code ?? 0).toBe(0);
    const refusedCheck = spans.find(
      (span) => span.name === 'gatehouse.authenticate' && span.traceId === refusedRequest.traceId,
    );
    expect(stringAttribute(refusedCheck?.attributes ?? [], 'gatehouse.auth.outcome')).toBe('invalid_token');

    const sent = collector.bodies.slice(received).join('\n');
    for (const secret of secrets) expect(sent.includes(secret), 'a secret in the spans').toBe(false);
  });
});
