import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Encryption at rest of signing keys' private parts (DESIGN.md 1: "private part encrypted with the
 * server secret"). AES-256-GCM under a key derived from `GATEHOUSE_SECRET` with HKDF-SHA256 (RFC 5869):
 * the secret is a passphrase-like string, HKDF turns it into a uniform 256-bit key, and a fresh salt per
 * envelope gives every stored key its own encryption key.
 */

const VERSION = 'v1';
const INFO = 'gatehouse signing-key encryption v1';

function deriveKey(secret: string, salt: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, salt, info, 32));
}

/** Thrown when an envelope cannot be opened: wrong secret, or a tampered row. */
export class KeyDecryptionError extends Error {
  override name = 'KeyDecryptionError';
}

/**
 * Seals `plaintext` as `v1.<salt>.<iv>.<ciphertext>.<tag>` (base64url). `context` (the key's kid)
 * is authenticated as associated data, so an envelope copied onto another row does not open. `info`
 * separates the keys of other uses of the server secret (HKDF's info), so no envelope opens for another.
 */
export function seal(secret: string, context: string, plaintext: string, info = INFO): string {
  const salt = randomBytes(16);
  // 96-bit random IV: NIST SP 800-38D's recommended size; each key encrypts exactly one message.
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', deriveKey(secret, salt, info), iv);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [VERSION, salt, iv, ciphertext, cipher.getAuthTag()]
    .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
    .join('.');
}

/** Opens an envelope made by {@link seal}; throws {@link KeyDecryptionError} if it does not authenticate. */
export function open(secret: string, context: string, envelope: string, info = INFO): string {
  const [version, salt, iv, ciphertext, tag, ...rest] = envelope.split('.');
  if (version !== VERSION || !salt || !iv || !ciphertext || !tag || rest.length > 0) {
    throw new KeyDecryptionError('not a signing-key envelope');
  }
  try {
    const decipher = createDecipheriv(
      'aes-256-gcm',
      deriveKey(secret, Buffer.from(salt, 'base64url'), info),
      Buffer.from(iv, 'base64url'),
      { authTagLength: 16 },
    );
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString(
      'utf8',
    );
  } catch {
    throw new KeyDecryptionError(
      'the envelope does not authenticate: wrong GATEHOUSE_SECRET or altered data',
    );
  }
}
