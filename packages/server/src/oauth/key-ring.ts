import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import {
  findSigningKey,
  listSigningKeys,
  type StoredSigningKey,
} from '../storage/repositories/signing-keys.ts';
import type { Db } from '../storage/transaction.ts';
import { isSigningAlgorithm, type SigningAlgorithm } from './jws.ts';
import { open } from './key-encryption.ts';
import { ensureSigningKey, type PublicJwk, signingKeyStatus } from './signing-keys.ts';

/** A key that verifies tokens, as node:crypto wants it (parsed once, reused for every token). */
export interface VerificationKey {
  kid: string;
  alg: SigningAlgorithm;
  key: KeyObject;
  jwk: PublicJwk;
}

export interface Signer {
  kid: string;
  alg: SigningAlgorithm;
  key: KeyObject;
}

export interface KeyRingOptions {
  /** How often the keys are reloaded, so that a rotation (by the CLI or another instance) reaches us. */
  refreshMs?: number;
  onError?: (error: unknown) => void;
}

/** Our kids are RFC 7638 thumbprints (43 characters); anything much longer is not worth a lookup. */
const MAX_KID_LENGTH = 128;

/**
 * This instance's view of the signing keys: the active key (private part decrypted in memory only)
 * and the published ones, reloaded periodically. Keys past their publication window are dropped,
 * so their tokens are refused as signed by an unknown kid.
 */
export class KeyRing {
  private signerKey: Signer | undefined;
  private published = new Map<string, VerificationKey>();
  private timer: NodeJS.Timeout | undefined;
  private loading: Promise<void> | undefined;
  /** Kids looked up and not found: remembered briefly, so a flood of made-up kids costs one query each. */
  private readonly unknownKids = new LRUCache<string, true>({ max: 10_000, ttl: 10_000 });

  constructor(
    private readonly db: Db,
    private readonly settings: { secret: string; accessTokenTtl: number },
    private readonly options: KeyRingOptions = {},
  ) {}

  /** Generates the first key if needed, loads the keys, and starts reloading them. */
  async start(): Promise<void> {
    await ensureSigningKey(this.db, this.settings.secret);
    await this.reload();
    this.timer = setInterval(
      () => void this.reload().catch((error: unknown) => this.options.onError?.(error)),
      this.options.refreshMs ?? 5000,
    );
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The key new tokens are signed with. */
  signer(): Signer {
    if (!this.signerKey) throw new Error('the key ring is not started');
    return this.signerKey;
  }

  /**
   * A published key by kid. A kid not loaded yet is looked up once: another instance may already sign
   * with a key this one has not reloaded. A kid that does not exist is remembered as unknown; since a kid
   * is the thumbprint of a freshly generated key, no one presents a real kid before it exists.
   */
  async verificationKey(kid: string): Promise<VerificationKey | undefined> {
    const known = this.published.get(kid);
    if (known || kid.length > MAX_KID_LENGTH || this.unknownKids.has(kid)) return known;
    const stored = await findSigningKey(this.db, kid);
    if (
      !stored ||
      !isSigningAlgorithm(stored.alg) ||
      signingKeyStatus(stored, this.settings.accessTokenTtl, Date.now()).status === 'expired'
    ) {
      this.unknownKids.set(kid, true);
      return undefined;
    }
    const key = toVerificationKey(stored, stored.alg);
    this.published.set(kid, key);
    return key;
  }

  /** The JWKS document (RFC 7517 5): public parts only. */
  jwks(): { keys: PublicJwk[] } {
    return { keys: [...this.published.values()].map((k) => k.jwk) };
  }

  /** Reloads the keys from the database; concurrent callers share one load. */
  reload(): Promise<void> {
    this.loading ??= this.load().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async load(): Promise<void> {
    const now = Date.now();
    const stored = await listSigningKeys(this.db);
    const published = new Map<string, VerificationKey>();
    let active: StoredSigningKey | undefined;
    for (const key of stored) {
      if (!isSigningAlgorithm(key.alg)) continue;
      if (signingKeyStatus(key, this.settings.accessTokenTtl, now).status === 'expired') continue;
      if (key.active) active = key;
      // Parsed once per kid: a KeyObject is what makes the node:crypto verify fast.
      published.set(key.kid, this.published.get(key.kid) ?? toVerificationKey(key, key.alg));
    }
    if (active && active.kid !== this.signerKey?.kid && isSigningAlgorithm(active.alg)) {
      const jwk: unknown = JSON.parse(open(this.settings.secret, active.kid, active.privateJwkEncrypted));
      // The envelope authenticated, so this is the private JWK we sealed.
      const key = createPrivateKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' });
      this.signerKey = { kid: active.kid, alg: active.alg, key };
    }
    this.published = published;
  }
}

function toVerificationKey(key: StoredSigningKey, alg: SigningAlgorithm): VerificationKey {
  // Our own row, written by signing-keys.ts from a public JWK export.
  const jwk = JSON.parse(key.publicJwk) as PublicJwk;
  return { kid: key.kid, alg, key: createPublicKey({ key: { ...jwk }, format: 'jwk' }), jwk };
}
