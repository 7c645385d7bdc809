import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * Prometheus metrics at `/metrics` (unauthenticated; off with `GATEHOUSE_METRICS=false`): requests and
 * latency by route and status, authentication outcomes, key-cache efficiency and the process defaults.
 * Each app has its own registry, so that several apps (tests, workers) never share or clash.
 * Routes are labelled with their declared pattern (`/v1/workspaces/:id`), never the raw URL, which keeps
 * the number of series bounded whatever clients send.
 */
export function metrics(app: FastifyInstance): void {
  if (!app.services.config.metrics) return;
  const register = new Registry();
  collectDefaultMetrics({ register });
  const labelNames = ['method', 'route', 'status'] as const;
  const requests = new Counter({
    name: 'gatehouse_http_requests_total',
    help: 'HTTP requests answered, by route pattern and status',
    labelNames,
    registers: [register],
  });
  const latency = new Histogram({
    name: 'gatehouse_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by route pattern and status',
    labelNames,
    buckets: LATENCY_BUCKETS,
    registers: [register],
  });
  const { stats } = app.services.keys;
  const tallies = app.authTallies;
  new Counter({
    name: 'gatehouse_auth_total',
    help: 'Credential checks by method (apiKey, client, bearer, none) and result',
    labelNames: ['method', 'result'] as const,
    registers: [register],
    // Read at scrape time from plain counters kept where the checks happen.
    collect() {
      this.reset();
      const sources: Record<string, Record<string, number>>[] = [stats.results, { ...tallies }];
      for (const source of sources)
        for (const [method, results] of Object.entries(source))
          for (const [result, count] of Object.entries(results)) this.inc({ method, result }, count);
    },
  });
  new Counter({
    name: 'gatehouse_key_cache_lookups_total',
    help: 'API key cache lookups: hit (memory), negative (known unknown, memory) or miss (database)',
    labelNames: ['cache', 'outcome'] as const,
    registers: [register],
    collect() {
      this.reset();
      for (const [cache, outcomes] of Object.entries(stats.lookups))
        for (const [outcome, count] of Object.entries(outcomes)) this.inc({ cache, outcome }, count);
    },
  });

  app.addHook('onResponse', async function countResponse(request, reply) {
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status: String(reply.statusCode),
    };
    requests.inc(labels);
    latency.observe(labels, reply.elapsedTime / 1000);
  });

  app.get('/metrics', { schema: { hide: true }, config: { rateLimit: false } }, async (_request, reply) => {
    const body = await register.metrics();
    return reply.type(register.contentType).header('cache-control', 'no-store').send(body);
  });
}
