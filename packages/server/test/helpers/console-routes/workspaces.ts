import type { PageRoute } from '../route-table.ts';
import { form, page } from './kinds.ts';

/**
 * The console's workspaces pages, for the common route checks (route-table.ts). The forms aim at A's
 * second workspace: the checks only ever send them without a valid CSRF token, which must change nothing.
 */
export const WORKSPACE_PAGES: readonly PageRoute[] = [
  page('/o/:tenantId/workspaces', (f) => `/o/${f.seed.a.tenantId}/workspaces?q=a&page=1`),
  page('/o/:tenantId/workspaces/new', (f) => `/o/${f.seed.a.tenantId}/workspaces/new`),
  form(
    '/o/:tenantId/workspaces',
    (f) => `/o/${f.seed.a.tenantId}/workspaces`,
    () => ({ label: 'A workspace a refused form must not create' }),
  ),
  page(
    '/o/:tenantId/workspaces/:id',
    (f) => `/o/${f.seed.a.tenantId}/workspaces/${f.seed.a.secondWorkspaceId}`,
  ),
  form(
    '/o/:tenantId/workspaces/:id',
    (f) => `/o/${f.seed.a.tenantId}/workspaces/${f.seed.a.secondWorkspaceId}`,
    () => ({ label: 'A name a refused form must not set' }),
  ),
  form(
    '/o/:tenantId/workspaces/:id/archive',
    (f) => `/o/${f.seed.a.tenantId}/workspaces/${f.seed.a.secondWorkspaceId}/archive`,
  ),
  form(
    '/o/:tenantId/workspaces/:id/restore',
    (f) => `/o/${f.seed.a.tenantId}/workspaces/${f.seed.a.secondWorkspaceId}/restore`,
  ),
];
