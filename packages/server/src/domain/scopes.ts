/** Every scope we know, in canonical order (DESIGN.md 1). */
export const SCOPES = ['api1', 'offline_access'] as const;
export type Scope = (typeof SCOPES)[number];

/** The scope every token carries: access to the REST API. */
export const API_SCOPE: Scope = 'api1';

/** Whether a granted scope string contains `scope`. */
export function hasScope(granted: string, scope: Scope): boolean {
  return granted.split(' ').includes(scope);
}
