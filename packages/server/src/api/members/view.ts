import type { Member } from '../../model/types.ts';

/** A member as the admin API shows them (the `Member` schema). */
export function memberView(member: Member) {
  return {
    id: member.id,
    email: member.email,
    displayName: member.displayName,
    role: member.role,
    workspaceIds: member.workspaceIds,
    createdAt: new Date(member.createdAt).toISOString(),
  };
}
