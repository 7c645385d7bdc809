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
 * The members of the tenant among the `user:<id>` references given (a page's actors, targets or key
 * creators), by user id: one query for the whole page, however many rows. Users who are not members of
 * the tenant (any more) are left out, and stay plain `user:<id>` references: a tenant is never told who
 * someone outside it is.
 */
export async function membersNamed(
  db: Db,
  tenantId: number,
  references: readonly (string | null)[],
): Promise<Map<number, MemberName>> {
  const ids = new Set<number>();
  for (const reference of references) {
    const id = userIdOf(reference);
    if (id !== undefined) ids.add(id);
  }
  const members = await listMemberNames(db, tenantId, [...ids]);
  return new Map(members.map((m) => [m.id, m]));
}

/** The members a page of the tenant's audit log names, as actor or target (see {@link membersNamed}). */
export function membersNamedIn(
  db: Db,
  tenantId: number,
  records: readonly AuditRecord[],
): Promise<Map<number, MemberName>> {
  return membersNamed(
    db,
    tenantId,
    records.flatMap((r) => [r.actor, r.target]),
  );
}

/** How a page names a `user:<id>` reference: the member's name or email, else the reference itself. */
export function nameOf(reference: string | null, members: ReadonlyMap<number, MemberName>): string {
  if (reference === null) return '—';
  const id = userIdOf(reference);
  const member = id === undefined ? undefined : members.get(id);
  return member ? (member.displayName ?? member.email) : reference;
}
