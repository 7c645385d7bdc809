import type { Target } from './load.ts';
import { peerClient } from './peer.ts';
import type { Seeded } from './seed.ts';
import { STORM_CONNECTIONS } from './storm.ts';
import { TOKEN_BODY, tokenHeaders } from './tokens.ts';

/** Every load the bench can put on a server; rows pair them as measurement and baseline. */
export type LoadId =
  | 'healthz'
  | 'meApiKey'
  | 'meApiKeyWarn'
  | 'meBearer'
  | 'meBearerCold'
  | 'token1'
  | 'tokenMany'
  | 'peer1'
  | 'peerMany'
  | 'meApiKeyAgain'
  | 'workspaces'
  | 'meApiKeyOne'
  | 'meApiKeyWorkers';

/** Every measurement of a report: the loads, and row 10's token endpoint calm and during the storm. */
export type MeasurementId = LoadId | 'tokenCalm' | 'tokenStorm';

/** Workers of row 11's second server (`GATEHOUSE_WORKERS`): one per core of the 2-core reference machine. */
export const WORKERS = 2;

/** Concurrent sign-ins of row 10. */
export const STORM_SIZE = 200;

export const LABELS: Record<MeasurementId, string> = {
  healthz: 'GET /healthz (no auth)',
  meApiKey: 'GET /me, X-API-Key (cache warm)',
  meApiKeyWarn: 'GET /me, X-API-Key, GATEHOUSE_LOG_LEVEL=warn',
  meBearer: 'GET /me, Bearer JWT reused',
  meBearerCold: 'GET /me, Bearer JWT first seen (cold verify)',
  token1: 'POST /connect/token, 1 client',
  tokenMany: 'POST /connect/token, N clients round-robin',
  peer1: 'peer POST /connect/token, 1 client',
  peerMany: 'peer POST /connect/token, N clients round-robin',
  meApiKeyAgain: 'GET /me, X-API-Key (paired with row 6)',
  workspaces: 'GET /v1/workspaces, 1,000 workspaces, size 50',
  tokenCalm: `POST /connect/token, 1 client, ${STORM_CONNECTIONS} connections, calm`,
  tokenStorm: `POST /connect/token, 1 client, ${STORM_CONNECTIONS} connections, ${STORM_SIZE} sign-ins at once`,
  meApiKeyOne: 'GET /me, X-API-Key, 1 worker (paired with row 11)',
  meApiKeyWorkers: `GET /me, X-API-Key, GATEHOUSE_WORKERS=${WORKERS}`,
};

/** The process a load is sent to: the server under test with the defaults, its variants, or the peer. */
export type ServerName = 'main' | 'warn' | 'workers' | 'peer';

/** Which server each load runs against. */
export function serverOf(id: LoadId): ServerName {
  if (id === 'peer1' || id === 'peerMany') return 'peer';
  if (id === 'meApiKeyWarn') return 'warn';
  if (id === 'meApiKeyWorkers') return 'workers';
  return 'main';
}

export interface ScenarioContext {
  /** Origin of each running server; only the main one always runs. */
  origins: { main: string } & Partial<Record<ServerName, string>>;
  seeded: Seeded;
  /** A token reused by every request of row 2. */
  bearer: string | null;
  /** Fresh tokens for row 3, consumed in order, one per request. */
  coldTokens: string[];
  /** How many clients the peer holds (row 5's N on the peer side). */
  peerClients: number;
}

/** Round-robin over `count` items through a counter shared by every connection. */
function roundRobin<T>(count: number, make: (i: number) => T): () => T {
  const items = Array.from({ length: count }, (_, i) => make(i));
  let next = 0;
  return () => {
    const item = items[next] as T;
    next = (next + 1) % items.length;
    return item;
  };
}

/** The request(s) of each measurement. */
export function targetOf(id: LoadId, ctx: ScenarioContext): Target {
  const { seeded } = ctx;
  const origin = originOf(serverOf(id), ctx);
  const apiKey = { 'x-api-key': seeded.main.privateKey };
  const post = { method: 'POST' as const, path: '/connect/token', body: TOKEN_BODY };
  switch (id) {
    case 'healthz':
      return { origin, path: '/healthz' };
    case 'meApiKey':
    case 'meApiKeyWarn':
    case 'meApiKeyAgain':
    case 'meApiKeyOne':
    case 'meApiKeyWorkers':
      return { origin, path: '/me', headers: apiKey };
    case 'meBearer':
      return { origin, path: '/me', headers: { authorization: `Bearer ${ctx.bearer}` } };
    case 'meBearerCold': {
      let i = 0;
      const tokens = ctx.coldTokens;
      return {
        origin,
        path: '/me',
        next: () => ({ headers: { authorization: `Bearer ${tokens[i++ % tokens.length]}` } }),
      };
    }
    case 'token1':
      return { origin, ...post, headers: tokenHeaders(seeded.main) };
    case 'tokenMany':
      return {
        origin,
        ...post,
        next: roundRobin(seeded.clients.length, (i) => ({
          headers: tokenHeaders(seeded.clients[i] as typeof seeded.main),
        })),
      };
    case 'peer1':
      return { origin, ...post, headers: tokenHeaders(peerClient(0)) };
    case 'peerMany':
      return {
        origin,
        ...post,
        next: roundRobin(ctx.peerClients, (i) => ({ headers: tokenHeaders(peerClient(i)) })),
      };
    case 'workspaces': {
      // Pages 1 to 20 in turn: the whole 1,000-workspace list, so that OFFSET costs are included.
      const headers = { 'x-api-key': seeded.workspaceOwner.privateKey };
      return {
        origin,
        path: '/v1/workspaces',
        next: roundRobin(20, (i) => ({ path: `/v1/workspaces?page=${i + 1}&size=50`, headers })),
      };
    }
  }
}

function originOf(server: ServerName, ctx: ScenarioContext): string {
  const origin = ctx.origins[server];
  if (!origin) throw new Error(`the ${server} server is not running`);
  return origin;
}
