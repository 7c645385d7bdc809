import type { Target } from './load.ts';
import { peerClient } from './peer.ts';
import type { Seeded } from './seed.ts';
import { TOKEN_BODY, tokenHeaders } from './tokens.ts';

/** Every load the bench can put on a server; rows pair them as measurement and baseline. */
export type MeasurementId =
  | 'healthz'
  | 'meApiKey'
  | 'meBearer'
  | 'meBearerCold'
  | 'token1'
  | 'tokenMany'
  | 'peer1'
  | 'peerMany'
  | 'meApiKeyAgain'
  | 'workspaces';

export const LABELS: Record<MeasurementId, string> = {
  healthz: 'GET /healthz (no auth)',
  meApiKey: 'GET /me, X-API-Key (cache warm)',
  meBearer: 'GET /me, Bearer JWT reused',
  meBearerCold: 'GET /me, Bearer JWT first seen (cold verify)',
  token1: 'POST /connect/token, 1 client',
  tokenMany: 'POST /connect/token, N clients round-robin',
  peer1: 'peer POST /connect/token, 1 client',
  peerMany: 'peer POST /connect/token, N clients round-robin',
  meApiKeyAgain: 'GET /me, X-API-Key (paired with row 6)',
  workspaces: 'GET /v1/workspaces, 1,000 workspaces, size 50',
};

export interface ScenarioContext {
  origin: string;
  peerOrigin: string | null;
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
export function targetOf(id: MeasurementId, ctx: ScenarioContext): Target {
  const { origin, seeded } = ctx;
  const apiKey = { 'x-api-key': seeded.main.privateKey };
  const post = { method: 'POST' as const, path: '/connect/token', body: TOKEN_BODY };
  switch (id) {
    case 'healthz':
      return { origin, path: '/healthz' };
    case 'meApiKey':
    case 'meApiKeyAgain':
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
      return { origin: peerOrigin(ctx), ...post, headers: tokenHeaders(peerClient(0)) };
    case 'peerMany':
      return {
        origin: peerOrigin(ctx),
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

function peerOrigin(ctx: ScenarioContext): string {
  if (!ctx.peerOrigin) throw new Error('the reference peer is not running');
  return ctx.peerOrigin;
}
