import type { Permission, Role } from '../model/types.ts';

/** Every permission, weakest first: each includes the ones before it (DESIGN.md 1). */
export const PERMISSIONS: readonly Permission[] = ['read', 'write', 'admin'];

/** Keys are created with `write` unless asked otherwise: today's behaviour for every existing key. */
export const DEFAULT_PERMISSION: Permission = 'write';

const rank = (permission: Permission) => PERMISSIONS.indexOf(permission);

/** Whether `granted` includes `needed`. */
export function permits(granted: Permission, needed: Permission): boolean {
  return rank(granted) >= rank(needed);
}

/** The lesser of two permissions: what a credential holds when two limits apply. */
export function leastOf(a: Permission, b: Permission): Permission {
  return rank(a) <= rank(b) ? a : b;
}

/** The most a user of this role may do: owners and admins administer, members use the data API. */
export function roleCeiling(role: Role): Permission {
  return role === 'member' ? 'write' : 'admin';
}

/** Whether a value is a permission name (input from the API, the CLI or a token claim). */
export function isPermission(value: unknown): value is Permission {
  return typeof value === 'string' && (PERMISSIONS as readonly string[]).includes(value);
}
