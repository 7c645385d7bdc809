import { createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { isSigningAlgorithm, type SigningAlgorithm } from '../domain/jws.ts';
import { open } from '../domain/key-encryption.ts';
import {
  DEFAULT_ALGORITHM,
  ensureSigningKey,
  loadSigningKeys,
  type PublicJwk,
  signingKeyStatus,
} from '../domain/signing-keys.ts';
import type { SigningKey } from '../model/types.ts';
import type { Db } from '../storage/transaction.ts';

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
 * At most one reload for unknown kids per this interval, whatever the number of made-up kids
 * presented: a kid that is not loaded costs the database nothing more than this.
 */
const UNKNOWN_KID_RELOAD_MS = 1000;

/**
 * This instance's view of the signing keys: the active key of each algorithm (private part decrypted
 * in memory only) and the published ones of every algorithm, reloaded periodically. Keys past their
 * publication window are dropped, so their tokens are refused as signed by an unknown kid.
 */
export class KeyRing {
  private signers = new Map<SigningAlgorithm, Signer>();
  private published = new Map<string, VerificationKey>();
  private timer: NodeJS.Timeout | undefined;
  private loading: Promise<void> | undefined;
  private lastLoadAt = 0;
  private pendingReload: Promise<void> | undefined;
  /** Reads of the signing keys (a load each), for tests and metrics. */
  readonly stats = { lookups: 0 };

  constructor(
    private readonly db: Db,
    private readonly settings: { secret: string; accessTokenTtl: number },
    private readonly options: KeyRingOptions = {},
  ) {}

  /** Generates the first key of each algorithm if needed, loads the keys, and starts reloading them. */
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

  /**
   * The key new tokens of `alg` are signed with: access tokens use {@link DEFAULT_ALGORITHM} (ES256),
   * ID tokens their client's `id_token_signed_response_alg`. A map lookup: no I/O, no parsing.
   */
  signer(alg: SigningAlgorithm = DEFAULT_ALGORITHM): Signer {
    const signer = this.signers.get(alg);
    if (!signer) throw new Error(`the key ring has no ${alg} signing key (is it started?)`);
    return signer;
  }

  /**
   * A published key by kid. A kid not loaded yet triggers a reload, since another instance may already
   * sign with a key this one has not loaded; reloads for unknown kids are shared and spaced at least
   * {@link UNKNOWN_KID_RELOAD_MS} apart, so a flood of made-up kids (each one different) costs one read
   * per interval in all, not one per kid. A real new kid waits at most that long.
   */
  async verificationKey(kid: string): Promise<VerificationKey | undefined> {
    const known = this.published.get(kid);
    if (known || kid.length > MAX_KID_LENGTH) return known;
    await this.reloadForUnknownKid();
    return this.published.get(kid);
  }

  private reloadForUnknownKid(): Promise<void> {
    if (this.pendingReload !== undefined) return this.pendingReload;
    const wait = this.lastLoadAt + UNKNOWN_KID_RELOAD_MS - Date.now();
    this.pendingReload = (
      wait > 0 ? new Promise((resolve) => setTimeout(resolve, wait).unref()) : Promise.resolve()
    )
      .then(() => this.reload())
      .finally(() => {
        this.pendingReload = undefined;
      });
    return this.pendingReload;
  }

  /** The JWKS document (RFC 7517 5): public parts only, every published key of every algorithm. */
  jwks(): { keys: PublicJwk[] } {
    return { keys: [...this.published.values()].map((k) => k.jwk) };
  }

  /**
   * Reloads the keys with a read that starts after this call, for a rotation known to have committed:
   * a load already running may have read before it.
   */
  async refresh(): Promise<void> {
    await this.loading?.catch(() => {});
    return this.reload();
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
    this.stats.lookups++;
    this.lastLoadAt = now;
    const stored = await loadSigningKeys(this.db);
    const published = new Map<string, VerificationKey>();
    // A signer whose key is still active is kept as is; an algorithm without an active key keeps its
    // last one (never the case once started: ensureSigningKey made one of each).
    const signers = new Map(this.signers);
    for (const key of stored) {
      if (!isSigningAlgorithm(key.alg)) continue;
      if (signingKeyStatus(key, this.settings.accessTokenTtl, now).status === 'expired') continue;
      if (key.active && signers.get(key.alg)?.kid !== key.kid) {
        signers.set(key.alg, this.toSigner(key, key.alg));
      }
      // Parsed once per kid: a KeyObject is what makes the node:crypto verify fast.
      published.set(key.kid, this.published.get(key.kid) ?? toVerificationKey(key, key.alg));
    }
    this.signers = signers;
    this.published = published;
  }

  /** Opens an active key's private part (once per kid: the signer is kept until the key is retired). */
  private toSigner(key: SigningKey, alg: SigningAlgorithm): Signer {
    const jwk: unknown = JSON.parse(open(this.settings.secret, key.kid, key.privateJwkEncrypted));
    // The envelope authenticated, so this is the private JWK we sealed.
    return { kid: key.kid, alg, key: createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' }) };
  }
}

function toVerificationKey(key: SigningKey, alg: SigningAlgorithm): VerificationKey {
  // Our own row, written by signing-keys.ts from a public JWK export.
  const jwk = JSON.parse(key.publicJwk) as PublicJwk;
  return { kid: key.kid, alg, key: createPublicKey({ key: { ...jwk }, format: 'jwk' }), jwk };
}
