import type { PageRoute } from '../route-table.ts';
import { PASSWORD } from '../seed.ts';

/**
 * The console's account pages, for the common route checks (route-table.ts). `GET /console` and the
 * "Remove access" routes are in the main table. The forms act on the signed-in owner of A's own
 * account: a refused request must leave their name and password as they were.
 */
export const ACCOUNT_PAGES: readonly PageRoute[] = [
  {
    kind: 'page',
    method: 'POST',
    path: '/console/profile',
    url: () => '/console/profile',
    form: () => ({ display_name: 'A name the refused form must not set' }),
    csrf: 'field',
    anonymous: { status: 403, answer: 'html' },
  },
  {
    kind: 'page',
    method: 'POST',
    path: '/console/password',
    url: () => '/console/password',
    form: () => ({
      current_password: PASSWORD,
      new_password: 'a password the refused form must not set',
      confirm_password: 'a password the refused form must not set',
    }),
    csrf: 'field',
    anonymous: { status: 403, answer: 'html' },
  },
];
