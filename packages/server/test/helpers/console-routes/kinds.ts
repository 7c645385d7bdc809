import type { PageRoute } from '../route-table.ts';

/** A page of an organization: without a session, a redirect to sign-in. */
export const page = (path: string, url: PageRoute['url']): PageRoute => ({
  kind: 'page',
  method: 'GET',
  path,
  url,
  csrf: 'none',
  anonymous: { status: 303, answer: 'sign-in-redirect' },
});

/** A form of an organization: without a valid CSRF token, a 403 page that changes nothing. */
export const form = (
  path: string,
  url: PageRoute['url'],
  fields: PageRoute['form'] = () => ({}),
): PageRoute => ({
  kind: 'page',
  method: 'POST',
  path,
  url,
  form: fields,
  csrf: 'field',
  anonymous: { status: 403, answer: 'html' },
});
