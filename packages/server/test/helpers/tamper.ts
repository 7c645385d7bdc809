/** Letters and digits in base64 order: a character's index is its base64 value. */
const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * `value` with its last character replaced by a different one, always the same for the same input.
 *
 * A letter or digit becomes another letter or digit, so that a base62 key keeps its shape and fails
 * only on what the test is about (checksum, lookup, signature). The replacement is 31 places away in
 * base64 order rather than the next character: the final character of base64 carries only its high
 * bits when the length is not a multiple of 4, so a neighbour (`A` to `B`) could decode to the same
 * bytes and leave a signature valid. `-`, `_`, `+` and `/` become `A`. Anything else throws, rather
 * than tamper in a way nobody checked.
 */
export function tamperLast(value: string): string {
  const last = value.at(-1);
  if (last === undefined) throw new Error('tamperLast: empty string');
  const index = ALPHANUMERIC.indexOf(last);
  let replacement: string;
  if (index >= 0) replacement = ALPHANUMERIC[(index + 31) % ALPHANUMERIC.length] as string;
  else if ('-_+/'.includes(last)) replacement = 'A';
  else throw new Error(`tamperLast: no rule for a final ${JSON.stringify(last)}`);
  return value.slice(0, -1) + replacement;
}
