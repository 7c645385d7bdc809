/** Rows per query of a feed read: enough that a backlog takes few round trips, few enough to stay cheap. */
const PAGE = 1000;

/**
 * Every row after `afterId`, oldest id first, read by keyset pages (`id > after`, never OFFSET, so a page
 * costs the same wherever it starts). `readPage` answers at most `limit` rows after the id it is given.
 */
export async function readAfter<T extends { id: number }>(
  afterId: number,
  readPage: (after: number, limit: number) => Promise<T[]>,
): Promise<T[]> {
  const rows: T[] = [];
  for (let after = afterId; ; ) {
    const page = await readPage(after, PAGE);
    rows.push(...page);
    if (page.length < PAGE) return rows;
    after = page[page.length - 1]?.id ?? after;
  }
}
