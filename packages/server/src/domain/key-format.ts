import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export const PUBLIC_PREFIX = 'gpk_';
export const PRIVATE_PREFIX = 'gsk_';
const PUBLIC_BODY = 24;
/** 43 base62 characters carry 256 bits. */
const PRIVATE_BODY = 43;
const CHECKSUM = 6;
export const PRIVATE_LENGTH = PRIVATE_PREFIX.length + PRIVATE_BODY + CHECKSUM;

const PUBLIC_PATTERN = /^gpk_[0-9A-Za-z]{24}$/;
const PRIVATE_PATTERN = /^gsk_[0-9A-Za-z]{49}$/;

/** Uniform base62 string: bytes >= 248 are rejected so that no character is more likely than another. */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248) out += BASE62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

function base62Fixed(value: number, width: number): string {
  let out = '';
  for (let v = value; v > 0; v = Math.floor(v / 62)) out = BASE62[v % 62] + out;
  return out.padStart(width, '0');
}

/** CRC32 of the prefix and body, so that scanners and the server reject typos without a lookup. */
function checksum(text: string): string {
  return base62Fixed(crc32(text), CHECKSUM);
}

export function generatePublicKey(): string {
  return PUBLIC_PREFIX + randomBase62(PUBLIC_BODY);
}

export function generatePrivateKey(): string {
  const body = PRIVATE_PREFIX + randomBase62(PRIVATE_BODY);
  return body + checksum(body);
}

export function isPublicKey(value: string): boolean {
  return PUBLIC_PATTERN.test(value);
}

/**
 * Shape and checksum check, done before any hashing or lookup. The checksum is not secret:
 * comparing it with `===` leaks nothing an attacker could not compute.
 */
export function isWellFormedPrivateKey(value: string): boolean {
  if (value.length !== PRIVATE_LENGTH || !PRIVATE_PATTERN.test(value)) return false;
  const body = value.slice(0, -CHECKSUM);
  return checksum(body) === value.slice(-CHECKSUM);
}
