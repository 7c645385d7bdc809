/** @gatehouse/sdk: a fetch-based client for the Gatehouse API, with no runtime dependencies. */
export { Gatehouse, type GatehouseOptions, type ListQuery } from './client.ts';
export { GatehouseError } from './errors.ts';
export type { AuditEvent, Entity, Page, Principal, Problem, Workspace } from './types.gen.ts';

export const SDK_VERSION = '0.1.0';
