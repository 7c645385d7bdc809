/**
 * Rough sizes in V8's heap, for caches bounded by bytes rather than entries: an entry count bounds
 * nothing when entries differ in size (a key with fifty redirect URIs, a token with a long scope), and
 * lru-cache preallocates its arrays for `max` entries up front (100,000 entries cost about 1.6 MB
 * per cache while empty), where a byte bound grows with what is held. Estimates, not measurements:
 * they count what dominates (strings, object headers and fields) and err on the large side.
 */

/** An object's header and hidden-class pointer, and the LRU's own bookkeeping per entry. */
export const ENTRY_OVERHEAD = 96;
const FIELD = 8;

/** A string's heap size: header plus one byte per character (ASCII), rounded to 8. */
export function stringBytes(value: string): number {
  return 16 + Math.ceil(value.length / 8) * 8;
}

/** An array of strings: the array, its slots and each string. */
export function stringListBytes(values: readonly string[]): number {
  let total = 16 + values.length * FIELD;
  for (const value of values) total += stringBytes(value);
  return total;
}

/** An object of `fields` plain fields (numbers, booleans, pointers), strings counted separately. */
export function objectBytes(fields: number): number {
  return 24 + fields * FIELD;
}
