import { html, type SafeHtml } from './html.ts';

/** Rows per page of every console list: pages stay fast however large the organization. */
export const PAGE_SIZE = 50;

/** The page number a query asks for: a positive integer, 1 otherwise. */
export function pageOf(value: unknown): number {
  const page = typeof value === 'string' && /^[1-9]\d{0,6}$/.test(value) ? Number(value) : 1;
  return page;
}

/** A query string keeping the list's filters (empty ones dropped), for another page of it. */
export function queryOf(filters: Record<string, string | number | undefined>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(filters))
    if (value !== undefined && value !== '') query.set(name, String(value));
  const text = query.toString();
  return text ? `?${text}` : '';
}

/** "Showing 51–100 of 1,000", with links to the previous and next pages of `path`. */
export function pager(
  path: string,
  filters: Record<string, string | number | undefined>,
  page: number,
  total: number,
  size = PAGE_SIZE,
): SafeHtml | string {
  if (total <= size && page === 1) return '';
  const first = Math.min((page - 1) * size + 1, total);
  const last = Math.min(page * size, total);
  const link = (to: number, label: string, rel: string) =>
    html`<a href="${path}${queryOf({ ...filters, page: to === 1 ? undefined : to })}" rel="${rel}">${label}</a>`;
  return html`<nav class="pager" aria-label="Pages">
<span class="muted small">Showing ${first.toLocaleString('en')}–${last.toLocaleString('en')} of ${total.toLocaleString('en')}</span>
<span class="pager-links">${page > 1 ? link(page - 1, 'Previous', 'prev') : ''}${last < total ? link(page + 1, 'Next', 'next') : ''}</span>
</nav>`;
}

/** A date and time for people: `2026-12-02 06:31 UTC`. */
export function when(epochMs: number | null | undefined, empty = '—'): string {
  if (epochMs === null || epochMs === undefined) return empty;
  return `${new Date(epochMs).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
