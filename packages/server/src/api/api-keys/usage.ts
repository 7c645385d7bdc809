import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  type KeyUsage,
  MAX_USAGE_BUCKETS,
  readKeyUsage,
  type UsageInterval,
  usageRange,
} from '../../domain/key-usage.ts';
import { principalOf } from '../../http/authenticate.ts';
import { administrators } from '../guards.ts';
import { adminErrors, publicKeyParam, security } from '../schemas.ts';

const querystring = {
  type: 'object',
  properties: {
    from: {
      type: 'string',
      format: 'date-time',
      description: 'Start, rounded down to the interval; default `to` minus 7 days; at most 90 days ago',
    },
    to: {
      type: 'string',
      format: 'date-time',
      description: 'End (exclusive), rounded up to the interval; default now',
    },
    interval: { type: 'string', enum: ['hour', 'day'], default: 'hour', description: 'Bucket size (UTC)' },
  },
  additionalProperties: false,
} as const;

interface Query {
  from?: string;
  to?: string;
  interval?: UsageInterval;
}
type Request = FastifyRequest<{ Params: { publicKey: string }; Querystring: Query }>;

const time = (value: string | undefined) => (value === undefined ? undefined : Date.parse(value));
const iso = (ms: number) => new Date(ms).toISOString();

/** Usage as the `KeyUsage` schema shows it: ISO times instead of epoch ms. */
function usageView(usage: KeyUsage) {
  return {
    publicKey: usage.publicKey,
    interval: usage.interval,
    from: iso(usage.from),
    to: iso(usage.to),
    buckets: usage.buckets.map(({ start, ...counts }) => ({ start: iso(start), ...counts })),
    totals: usage.totals,
  };
}

async function usage(request: Request) {
  const { db, usage: tally } = request.server.services;
  const { from, to, interval } = request.query;
  const range = usageRange({ from: time(from), to: time(to), interval });
  // This instance's pending counts first, so that a caller reads its own requests. Other instances'
  // counts arrive within their flush interval. A failed write keeps its counts for the next one, and
  // the read still answers what is stored.
  await tally.flush().catch((error: unknown) => request.log.warn({ err: error }, 'key usage flush failed'));
  return usageView(await readKeyUsage(db, request.params.publicKey, principalOf(request).tenantId, range));
}

/**
 * `GET /v1/api-keys/{publicKey}/usage`: the key's requests per hour (or day) by outcome, accepted or
 * refused, over at most the 90 days usage is kept. Part of the admin API: another organization's key
 * is 404.
 */
export function keyUsageRoute(api: FastifyInstance): void {
  api.get<{ Params: { publicKey: string }; Querystring: Query }>(
    '/v1/api-keys/:publicKey/usage',
    {
      preHandler: administrators(),
      schema: {
        tags: ['API keys'],
        summary: 'Requests of an API key per hour or day, accepted and refused',
        description: `Every bucket of the range, zeros included; at most ${MAX_USAGE_BUCKETS} buckets. Counts reach the database within seconds of each request.`,
        security,
        params: publicKeyParam,
        querystring,
        response: { 200: { $ref: 'KeyUsage#' }, ...adminErrors },
      },
    },
    usage,
  );
}
