import { randomBytes, timingSafeEqual } from 'node:crypto';
import { ProblemError } from '../errors/errors.ts';
import { passwordSlots } from './password-slots.ts';
import { ScryptWorkers } from './scrypt-workers.ts';

// OWASP's scrypt parameters (N=2^15, r=8, p=1); needs 32 MiB, so maxmem is raised above Node's default.
const N = 2 ** 15;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;
const MAXMEM = 64 * 1024 * 1024;

export const MIN_PASSWORD_LENGTH = 12;

/** One low-priority thread per password slot: hashing never runs on libuv's pool, which signs tokens. */
const workers = new ScryptWorkers(passwordSlots.limits.concurrency);

/** One scrypt, in a password slot (see password-slots.ts): throws a 503 `busy` problem when none is free soon. */
function derive(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return passwordSlots.run(() =>
    workers.derive(password.normalize('NFKC'), salt, KEY_LENGTH, { N: n, r, p, maxmem: MAXMEM }),
  );
}

/** Why a password is refused, or null when it is acceptable. */
export function passwordProblem(password: string): string | null {
  if (password.length < MIN_PASSWORD_LENGTH)
    return `password must be at least ${MIN_PASSWORD_LENGTH} characters`;
  if (password.length > 1024) return 'password must be at most 1024 characters';
  return null;
}

/** `scrypt$N$r$p$salt$hash`, parameters stored so that they can be raised later. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, N, R, P);
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** Hashes the password of a new account, refusing one that breaks the policy (a 400 problem). */
export async function hashNewPassword(password: string | undefined): Promise<string> {
  if (password === undefined) throw new ProblemError('validation_failed', 'a new user needs a password');
  const problem = passwordProblem(password);
  if (problem) throw new ProblemError('validation_failed', problem);
  return hashPassword(password);
}

/** Constant-time check of a password against its stored hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await derive(password, Buffer.from(salt, 'base64url'), Number(n), Number(r), Number(p));
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** A hash of a random password, verified against when the account does not exist so that both cases take as long. */
let decoy: Promise<string> | undefined;
export function decoyHash(): Promise<string> {
  decoy ??= hashPassword(randomBytes(16).toString('hex'));
  return decoy;
}
