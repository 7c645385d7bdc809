import type { FlagSpec } from './spec.ts';

// Flags several commands share, declared once so that they read the same everywhere.

export const TENANT = {
  type: 'string',
  value: 'ID',
  required: true,
  description: 'the organization, by id (gatehouse tenants list)',
} as const satisfies FlagSpec;

export const SEARCH = {
  type: 'string',
  value: 'TEXT',
  description: 'only those whose label, email or name contains TEXT',
} as const satisfies FlagSpec;

export const ROLE = {
  type: 'string',
  value: 'ROLE',
  choices: ['owner', 'admin', 'member'],
  description: 'owner, admin or member',
} as const satisfies FlagSpec;

/** ISO dates as the CLI prints them. */
export const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
