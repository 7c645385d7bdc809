import type { AuditRecord } from '../model/types.ts';
import { listMemberNames, type MemberName } from '../storage/repositories/accounts.ts';
import type { Db } from '../storage/transaction.ts';

export type { MemberName };

const USER_REF = /^user:([1-9]\d{0,9})$/;

/** The user id of a `user:<id>` actor or target, if it is one. */
export function userIdOf(reference: string | null): number | undefined {
  const match = reference === null ? null : USER_REF.exec(reference);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/**
 * The members of the tenant that a page of its audit log names (as actor or target), by user id: one
 * query for the whole page, however many rows. Users who are not members of the tenant (any more) are
 * left out, and stay plain `user:<id>` references: the log never tells a tenant who someone else is.
 */
export async function membersNamedIn(
  db: Db,
  tenantId: number,
  records: readonly AuditRecord[],
): Promise<Map<number, MemberName>> {
  const ids = new Set<number>();
  for (const record of records) {
    for (const reference of [record.actor, record.target]) {
      const id = userIdOf(reference);
      if (id !== undefined) ids.add(id);
    }
  }
  const members = await listMemberNames(db, tenantId, [...ids]);
  return new Map(members.map((m) => [m.id, m]));
}
