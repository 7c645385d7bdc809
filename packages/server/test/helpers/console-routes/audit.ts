import type { PageRoute } from '../route-table.ts';

/** The console's audit pages, for the common route checks (route-table.ts). */
export const AUDIT_PAGES: readonly PageRoute[] = [
  {
    kind: 'page',
    method: 'GET',
    path: '/o/:tenantId/audit',
    url: (f) => `/o/${f.seed.a.tenantId}/audit?action=api_key.created`,
    csrf: 'none',
    anonymous: { status: 303, answer: 'sign-in-redirect' },
  },
];
