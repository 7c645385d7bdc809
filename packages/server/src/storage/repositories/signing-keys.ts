import type { Kysely, Selectable } from 'kysely';
import type { SigningKey } from '../../model/types.ts';
import type { Database } from '../schema.ts';

function toStored(row: Selectable<Database['signing_keys']>): SigningKey {
  return {
    id: row.id,
    kid: row.kid,
    alg: row.alg,
    publicJwk: row.public_jwk,
    privateJwkEncrypted: row.private_jwk_encrypted,
    active: row.active === 1,
    createdAt: row.created_at,
    retiredAt: row.retired_at,
  };
}

/** Every signing key, newest first (a handful of rows: one per rotation). */
export async function listSigningKeys(db: Kysely<Database>): Promise<SigningKey[]> {
  const rows = await db.selectFrom('signing_keys').selectAll().orderBy('id', 'desc').execute();
  return rows.map(toStored);
}

export interface NewSigningKey {
  kid: string;
  alg: string;
  publicJwk: string;
  privateJwkEncrypted: string;
}

/**
 * Inserts a key as the active one of its algorithm. Throws a unique-constraint error when another key
 * of that algorithm is active (unique `alg`, `active`), so callers retire it first, in the same transaction.
 */
export async function insertActiveSigningKey(
  db: Kysely<Database>,
  key: NewSigningKey,
  now: number,
): Promise<void> {
  await db
    .insertInto('signing_keys')
    .values({
      kid: key.kid,
      alg: key.alg,
      public_jwk: key.publicJwk,
      private_jwk_encrypted: key.privateJwkEncrypted,
      active: 1,
      created_at: now,
    })
    .execute();
}

/** Retires the active key of `alg`, if any (there is at most one); returns its kid. */
export async function retireActiveSigningKey(
  db: Kysely<Database>,
  alg: string,
  now: number,
): Promise<string | undefined> {
  const row = await db
    .updateTable('signing_keys')
    .set({ active: null, retired_at: now })
    .where('alg', '=', alg)
    .where('active', '=', 1)
    .returning('kid')
    .executeTakeFirst();
  return row?.kid;
}
