import type { Page } from './types.gen.ts';

/**
 * Every item of a list, page after page (`page` is 1-based), fetching the next page only when the
 * caller has consumed the current one. Stops at the first short or empty page, or once `total`
 * items were seen, so a list that shrinks meanwhile cannot make it loop.
 *
 * @example
 * ```ts
 * for await (const workspace of paginate((page) => gatehouse.workspaces.list({ page, size: 100 }))) {
 *   console.log(workspace.label);
 * }
 * ```
 */
export async function* paginate<T>(
  fetchPage: (page: number) => Promise<Page<T>>,
): AsyncGenerator<T, void, undefined> {
  let seen = 0;
  let size: number | undefined;
  for (let page = 1; ; page++) {
    const { items, total } = await fetchPage(page);
    yield* items;
    seen += items.length;
    // The first page's length is the page size: a shorter page is the last one.
    size ??= items.length;
    if (items.length === 0 || items.length < size || seen >= total) return;
  }
}
