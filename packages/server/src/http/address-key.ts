import { isIPv6 } from 'node:net';

/**
 * The budget key of a client address: an IPv4 address as it is; an IPv4-mapped IPv6 address
 * (`::ffff:192.0.2.1`, what a dual-stack socket reports for an IPv4 client) as that IPv4 address;
 * any other IPv6 address as its /64 (RFC 5952 form, `2001:db8:1:2::`). A /64 is what one
 * subscriber is handed (RFC 6177), and it holds 2^64 addresses: counted per address, a single
 * client could spend a fresh budget on every request.
 */
export function addressKey(ip: string): string {
  if (!isIPv6(ip)) return ip.toLowerCase();
  const groups = hextets(ip);
  if (groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0) {
    const high = groups[6] ?? 0;
    const low = groups[7] ?? 0;
    if (groups[5] === 0xffff) return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
  }
  // The last four groups are zero: that run is the longest, so RFC 5952 writes it as `::`.
  let last = 3;
  while (last >= 0 && groups[last] === 0) last--;
  return `${groups
    .slice(0, last + 1)
    .map((group) => group.toString(16))
    .join(':')}::`;
}

/** The eight 16-bit groups of a valid IPv6 address (`isIPv6`), zone dropped, dotted tail included. */
function hextets(ip: string): number[] {
  const bare = ip.split('%', 1)[0] ?? '';
  const [head = '', tail] = bare.split('::');
  const before = groupsOf(head);
  const after = tail === undefined ? [] : groupsOf(tail);
  const gap = 8 - before.length - after.length;
  return [...before, ...new Array<number>(Math.max(0, gap)).fill(0), ...after];
}

function groupsOf(part: string): number[] {
  if (part === '') return [];
  return part.split(':').flatMap((group) => {
    if (!group.includes('.')) return [Number.parseInt(group, 16)];
    const [a = 0, b = 0, c = 0, d = 0] = group.split('.').map(Number);
    return [(a << 8) | b, (c << 8) | d];
  });
}
