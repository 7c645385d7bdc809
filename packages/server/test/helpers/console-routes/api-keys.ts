import type { PageRoute, RouteFixture } from '../route-table.ts';

const keys = (f: RouteFixture) => `/o/${f.seed.a.tenantId}/api-keys`;

/**
 * The console's start and its API configuration pages, for the common route checks (route-table.ts).
 * The forms aim at A's spare keys: the checks relabel and rotate `spareKeyOfA` and revoke
 * `revocableKeyOfA`, never the seed's keys, which other checks rely on.
 */
export const API_KEY_PAGES: readonly PageRoute[] = [
  // Where the console starts: signed out, the sign-in page (with `/` to come back to).
  {
    kind: 'page',
    method: 'GET',
    path: '/',
    url: () => '/',
    csrf: 'none',
    anonymous: { status: 303, answer: 'sign-in-redirect' },
  },
  // The copy buttons' script: public, like the stylesheet.
  {
    kind: 'page',
    method: 'GET',
    path: '/console/static/console.js',
    url: () => '/console/static/console.js',
    csrf: 'none',
    anonymous: { status: 200, answer: 'script' },
  },
  {
    kind: 'page',
    method: 'GET',
    path: '/o/:tenantId/api-keys',
    url: keys,
    csrf: 'none',
    anonymous: { status: 303, answer: 'sign-in-redirect' },
  },
  {
    kind: 'page',
    method: 'GET',
    path: '/o/:tenantId/api-keys/new',
    url: (f) => `${keys(f)}/new`,
    csrf: 'none',
    anonymous: { status: 303, answer: 'sign-in-redirect' },
  },
  {
    kind: 'page',
    method: 'POST',
    path: '/o/:tenantId/api-keys',
    url: keys,
    form: () => ({ label: 'planted by the common route checks', permissions: 'read', scope: '' }),
    csrf: 'field',
    anonymous: { status: 403, answer: 'html' },
  },
  {
    kind: 'page',
    method: 'GET',
    path: '/o/:tenantId/api-keys/:publicKey',
    url: (f) => `${keys(f)}/${f.spareKeyOfA}`,
    csrf: 'none',
    anonymous: { status: 303, answer: 'sign-in-redirect' },
  },
  {
    kind: 'page',
    method: 'POST',
    path: '/o/:tenantId/api-keys/:publicKey',
    url: (f) => `${keys(f)}/${f.spareKeyOfA}`,
    // Its own label again: answered, and nothing the other checks see changes.
    form: () => ({ label: 'A spare key', redirectUris: '', corsOrigins: '' }),
    csrf: 'field',
    anonymous: { status: 403, answer: 'html' },
  },
  {
    kind: 'page',
    method: 'POST',
    path: '/o/:tenantId/api-keys/:publicKey/rotate',
    url: (f) => `${keys(f)}/${f.spareKeyOfA}/rotate`,
    form: () => ({ grace: '3600' }),
    csrf: 'field',
    anonymous: { status: 403, answer: 'html' },
  },
  {
    kind: 'page',
    method: 'GET',
    path: '/o/:tenantId/api-keys/:publicKey/revoke',
    url: (f) => `${keys(f)}/${f.revocableKeyOfA}/revoke`,
    csrf: 'none',
    anonymous: { status: 303, answer: 'sign-in-redirect' },
  },
  {
    kind: 'page',
    method: 'POST',
    path: '/o/:tenantId/api-keys/:publicKey/revoke',
    url: (f) => `${keys(f)}/${f.revocableKeyOfA}/revoke`,
    form: () => ({}),
    csrf: 'field',
    anonymous: { status: 403, answer: 'html' },
  },
];
