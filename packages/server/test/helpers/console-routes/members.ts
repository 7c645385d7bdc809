import type { PageRoute } from '../route-table.ts';
import { form, page } from './kinds.ts';

/**
 * The console's members pages, for the common route checks (route-table.ts). The forms aim at A's spare
 * members (a role to change, a member to remove): the checks only ever send them without a valid CSRF
 * token, which must change nothing.
 */
export const MEMBER_PAGES: readonly PageRoute[] = [
  page('/o/:tenantId/members', (f) => `/o/${f.seed.a.tenantId}/members?q=a&page=1`),
  page('/o/:tenantId/members/new', (f) => `/o/${f.seed.a.tenantId}/members/new`),
  form(
    '/o/:tenantId/members',
    (f) => `/o/${f.seed.a.tenantId}/members`,
    () => ({ email: 'refused-form@a.test', role: 'owner', access: 'link' }),
  ),
  page('/o/:tenantId/members/:userId', (f) => `/o/${f.seed.a.tenantId}/members/${f.spareMemberOfA}`),
  form(
    '/o/:tenantId/members/:userId',
    (f) => `/o/${f.seed.a.tenantId}/members/${f.spareMemberOfA}`,
    () => ({ role: 'owner' }),
  ),
  page(
    '/o/:tenantId/members/:userId/remove',
    (f) => `/o/${f.seed.a.tenantId}/members/${f.removableMemberOfA}/remove`,
  ),
  form(
    '/o/:tenantId/members/:userId/remove',
    (f) => `/o/${f.seed.a.tenantId}/members/${f.removableMemberOfA}/remove`,
  ),
];
