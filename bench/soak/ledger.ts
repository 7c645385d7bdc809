import type { SoakClient } from './seed.ts';

/** An access token and the client it was issued to (introspection answers only its own client). */
export interface HeldToken {
  token: string;
  client: SoakClient;
}

/** A grant from the code flow that is still in use: its latest refresh token, and what came before. */
export interface Family {
  client: SoakClient;
  refresh: string;
  /** Refresh tokens this family rotated away from: each must be marked rotated in the database. */
  superseded: string[];
  /** Every access token issued to the family; the last one is current. */
  access: string[];
}

/** A key the soak created in tenant B, as the server last acknowledged it. */
export interface CreatedKey {
  label: string;
  privateKey: string;
  revoked: boolean;
}

/**
 * What the server acknowledged during the soak (2xx answers only), checked against the server at the
 * end: every acknowledged change must be there, and every revoked credential must stay dead.
 */
export class Ledger {
  readonly keys = new Map<string, CreatedKey>();
  readonly workspaces = new Map<number, string>();
  readonly acknowledged = {
    keyCreated: 0,
    keyPatched: 0,
    keyRotated: 0,
    keyRevoked: 0,
    workspaceCreated: 0,
    workspaceRenamed: 0,
    poolRotated: 0,
    familiesRevoked: 0,
  };
  readonly issued = { clientCredentials: 0, authorizationCode: 0, refresh: 0 };
  /** Live client-credentials tokens the Bearer lanes use (bounded; replaced as new ones come). */
  readonly tokenPool: HeldToken[] = [];
  /** Access tokens revoked (directly, or with their refresh token's grant): each must introspect inactive. */
  readonly revokedAccess: HeldToken[] = [];
  /** Latest refresh token of each revoked grant: each must be revoked in the database. */
  readonly revokedRefresh: string[] = [];
  readonly families: Family[] = [];
  /** Tokens never revoked, introspected at the end: they must still be active (the check can tell). */
  readonly liveSample: HeldToken[] = [];

  static readonly TOKEN_POOL = 100;

  /** Adds a token to the Bearer pool, replacing a random one when it is full. */
  pool(held: HeldToken): void {
    if (this.tokenPool.length < Ledger.TOKEN_POOL) this.tokenPool.push(held);
    else this.tokenPool[Math.floor(Math.random() * Ledger.TOKEN_POOL)] = held;
    if (this.liveSample.length < 50 && Math.random() < 0.05) this.liveSample.push(held);
  }
}

/** A random element of a non-empty list. */
export function pick<T>(items: readonly T[]): T {
  const item = items[Math.floor(Math.random() * items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}
