import { timingSafeEqual } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import {
  findClientKey,
  findClientKeys,
  findKeyBySecret,
  findKeysBySecrets,
  type KeyFailure,
  type KeyStatusFailure,
  keyStatus,
  recordKeyUse,
} from '../domain/api-keys.ts';
import { isPublicKey, isWellFormedPrivateKey } from '../domain/key-format.ts';
import { INVALIDATION_LOOKBACK_MS } from '../domain/retention.ts';
import { hashSecret } from '../domain/secrets.ts';
import { ENTRY_OVERHEAD, objectBytes, stringBytes, stringListBytes } from '../model/memory-size.ts';
import type { ApiKey, KeyWithSecrets } from '../model/types.ts';
import type { Db } from '../storage/transaction.ts';
import { InvalidationFeed } from './invalidation-feed.ts';

/**
 * Asked before a secret that is neither cached nor known unknown is looked up in the database: false
 * refuses the lookup (the caller's failure budget is spent), so made-up keys cannot turn into an
 * unbounded stream of database reads. `refund` is called when the looked-up key turned out valid.
 */
export interface LookupGate {
  admit(): Promise<boolean>;
  refund(): Promise<void>;
}

export type SecretResult = KeyResult | { valid: false; code: 'throttled' };

/**
 * A key check's answer. A refusal of a key that proved to be itself (its secret matched) names the key,
 * so that the refusal counts in its usage; a malformed or unknown credential names none.
 */
export type KeyResult =
  | { valid: true; key: ApiKey }
  | { valid: false; code: 'malformed' | 'unknown' }
  | { valid: false; code: KeyStatusFailure; keyId: number };

/**
 * An OAuth client check's answer: a key check's, or a client that exists but whose type does not take
 * the method used (DESIGN.md 1 "Client type"): a public client has no secret to present, and a
 * confidential one must present its own. The client type is not secret (the authorization endpoint
 * shows the client), so saying so leaks nothing; the key's status is only told once it proved itself.
 */
export type ClientResult = KeyResult | WrongMethod;

/** A client whose type does not take the authentication method used: see {@link ClientResult}. */
export interface WrongMethod {
  valid: false;
  code: 'public_client' | 'confidential_client';
}

/** Whether a client check failed on the method rather than on the credential or the key's status. */
export function isWrongMethod(result: ClientResult): result is WrongMethod {
  return !result.valid && (result.code === 'public_client' || result.code === 'confidential_client');
}

/**
 * Plain counters, read by `/metrics` at scrape time: the hot path pays an increment, nothing more.
 * `apiKey` counts X-API-Key checks, `client` OAuth client authentications.
 */
export interface KeyCacheStats {
  results: Record<'apiKey' | 'client', Record<'valid' | KeyFailure, number>>;
  /** Lookups answered from memory (`negative`: a known-unknown secret) or from the database. */
  lookups: Record<'secret' | 'client', Record<'hit' | 'negative' | 'miss', number>>;
}

function zeroResults(): Record<'valid' | KeyFailure, number> {
  return { valid: 0, malformed: 0, unknown: 0, revoked: 0, expired: 0, rotated_out: 0 };
}

interface SecretEntry {
  key: ApiKey;
  secretExpiresAt: number | null;
  /** When a request should start reading the entry again in the background (see {@link KeyCache}). */
  refreshAt: number;
}

interface ClientEntry {
  key: ApiKey;
  secrets: { hash: Buffer; expiresAt: number | null }[];
  refreshAt: number;
}

/** What an API key weighs in the caches (model/memory-size.ts), strings and lists included. */
function keyBytes(key: ApiKey): number {
  return (
    objectBytes(16) +
    stringBytes(key.label) +
    stringBytes(key.publicKey) +
    stringListBytes(key.redirectUris) +
    stringListBytes(key.corsOrigins) +
    stringListBytes(key.postLogoutRedirectUris)
  );
}

/** Hashes are base64url sha256 (43 characters); client secrets are held as 43-byte Buffers. */
const HASH_BYTES = stringBytes('x'.repeat(43));
const BUFFER_BYTES = objectBytes(4) + 48;

/**
 * The memory each cache may use. A key weighs about 0.6 KB with a few URIs, so the key caches hold
 * some 50,000 keys each, the unknown-secret cache about 40,000 made-up secrets.
 */
export const KEY_CACHE_BYTES = 32 * 1024 * 1024;
export const UNKNOWN_CACHE_BYTES = 8 * 1024 * 1024;
/** How soon a background refresh that failed (the database is away or busy) is tried again. */
const REFRESH_RETRY_MS = 5_000;
/**
 * Keys read per statement by the background refresh. Entries that come due are queued and read in
 * batches, one statement at a time: one read per key, unbounded, filled PostgreSQL's pool when 10,000
 * keys first seen together came due together (requests waited behind them, bench row 5); two at a
 * time, they fell behind under load and keys in use expired into misses.
 */
const REFRESH_BATCH = 500;

export interface KeyCacheOptions {
  /** Upper bound on how long a cached key is trusted without a database read. */
  ttlMs?: number;
  /** How long an unknown secret is remembered as unknown, to blunt floods of random keys. */
  negativeTtlMs?: number;
  /** Poll interval of the invalidation feed. */
  pollMs?: number;
  /** Interval of the feed's resync, which catches any row a poll missed (see invalidation-feed.ts). */
  resyncMs?: number;
  /** How long a row that committed out of id order is looked for, and how far back a resync reads. */
  lookbackMs?: number;
  /** Interval of the batched last-used writes. */
  flushMs?: number;
  /** Bytes each of the two key caches may hold (estimated: model/memory-size.ts). */
  maxBytes?: number;
  /** Keys read per statement by the background refresh (see {@link REFRESH_BATCH}). */
  refreshBatch?: number;
  /** Told of a failed background poll, resync or flush (the server logs it). */
  onError?: (error: unknown) => void;
}

/**
 * The API-key hot path (DESIGN.md 2): checksum, sha256, in-process LRU, one indexed lookup on a miss.
 * Cached entries are dropped within `pollMs` of a revocation or rotation on any instance (or by the CLI),
 * through the `invalidations` feed that every instance polls.
 *
 * An entry is trusted for at most `ttlMs` without a database read. A key in use does not wait for
 * that: the first request after half of it (spread to three quarters, so that keys first seen together
 * do not come due together) is answered from the entry and starts one read in the background that
 * replaces it, so a busy key never pays a miss, and 10,000 clients do not all miss in one burst every
 * minute. Concurrent misses of one key share one database read.
 */
export class KeyCache {
  private readonly bySecret: LRUCache<string, SecretEntry>;
  private readonly unknown: LRUCache<string, true>;
  private readonly byClient: LRUCache<string, ClientEntry>;
  /** Database reads in flight, by cache key, so that concurrent misses of one key share one. */
  private readonly reading = new Map<string, { evictions: number; promise: Promise<unknown> }>();
  /** Entries due for a background refresh, by secret hash and by public key, waiting for the next batch. */
  private readonly dueSecrets = new Map<string, SecretEntry>();
  private readonly dueClients = new Map<string, ClientEntry>();
  /** Whether a batch is being read (one at a time). */
  private refreshing = false;
  /** Key id -> cache keys that mention it, for invalidation. */
  private readonly index = new Map<number, Set<string>>();
  private readonly used = new Map<number, number>();
  private readonly feed: InvalidationFeed;
  /**
   * Counts evictions. A database read that started before an eviction may hold the state from before
   * the change it evicts for (a revocation committing meanwhile); such a result is answered, not cached.
   */
  private evictions = 0;
  private timers: NodeJS.Timeout[] = [];
  private readonly options: Required<KeyCacheOptions>;
  private readonly invalidationListeners: ((keyId: number) => void)[] = [];
  readonly stats: KeyCacheStats = {
    results: { apiKey: zeroResults(), client: zeroResults() },
    lookups: { secret: { hit: 0, negative: 0, miss: 0 }, client: { hit: 0, negative: 0, miss: 0 } },
  };

  /** Entries held in memory, by cache (`unknown`: secrets remembered as unknown), for `/metrics`. */
  get sizes(): { secret: number; client: number; unknown: number } {
    return { secret: this.bySecret.size, client: this.byClient.size, unknown: this.unknown.size };
  }

  constructor(
    private readonly db: Db,
    options: KeyCacheOptions = {},
  ) {
    this.options = {
      ttlMs: 60_000,
      negativeTtlMs: 10_000,
      pollMs: 1000,
      resyncMs: 60_000,
      lookbackMs: INVALIDATION_LOOKBACK_MS,
      flushMs: 10_000,
      maxBytes: KEY_CACHE_BYTES,
      refreshBatch: REFRESH_BATCH,
      onError: () => {},
      ...options,
    };
    this.feed = new InvalidationFeed(db, this.options.lookbackMs);
    // Eviction keeps the reverse index bounded by the caches themselves.
    // Bounded by bytes, not entries: see model/memory-size.ts.
    this.bySecret = new LRUCache({
      maxSize: this.options.maxBytes,
      sizeCalculation: (entry) => ENTRY_OVERHEAD + HASH_BYTES + objectBytes(3) + keyBytes(entry.key),
      ttl: this.options.ttlMs,
      dispose: (entry, hash) => this.unindex(entry.key.id, `s:${hash}`),
    });
    this.byClient = new LRUCache({
      maxSize: this.options.maxBytes,
      sizeCalculation: (entry, publicKey) =>
        ENTRY_OVERHEAD +
        stringBytes(publicKey) +
        objectBytes(3) +
        keyBytes(entry.key) +
        entry.secrets.length * (objectBytes(2) + BUFFER_BYTES),
      ttl: this.options.ttlMs,
      dispose: (entry, publicKey) => this.unindex(entry.key.id, `c:${publicKey}`),
    });
    this.unknown = new LRUCache({
      maxSize: UNKNOWN_CACHE_BYTES,
      sizeCalculation: (_value, secretOrPublicKey) => ENTRY_OVERHEAD + stringBytes(secretOrPublicKey),
      ttl: this.options.negativeTtlMs,
    });
  }

  /** Starts polling (and resyncing) the invalidation feed and flushing last-used times. */
  async start(): Promise<void> {
    await this.feed.start();
    const every = (ms: number, task: () => Promise<void>) => {
      const timer = setInterval(() => void task().catch(this.options.onError), ms);
      timer.unref();
      return timer;
    };
    this.timers = [
      every(this.options.pollMs, () => this.poll()),
      every(this.options.resyncMs, () => this.resync()),
      every(this.options.flushMs, () => this.flush()),
    ];
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    await this.flush();
  }

  /** Verifies an `X-API-Key` private key; a database read needs `gate`'s admission when one is given. */
  async verifySecret(secret: string, gate?: LookupGate, now = Date.now()): Promise<SecretResult> {
    const result = await this.checkSecret(secret, now, gate);
    if (result.valid || result.code !== 'throttled') this.tally('apiKey', result);
    return result;
  }

  private tally(kind: 'apiKey' | 'client', result: KeyResult): KeyResult {
    this.stats.results[kind][result.valid ? 'valid' : result.code]++;
    return result;
  }

  private async checkSecret(
    secret: string,
    now: number,
    gate: LookupGate | undefined,
  ): Promise<SecretResult> {
    if (!isWellFormedPrivateKey(secret)) return { valid: false, code: 'malformed' };
    const hash = hashSecret(secret);
    const lookups = this.stats.lookups.secret;
    let entry = this.bySecret.get(hash);
    if (entry) {
      lookups.hit++;
      if (now >= entry.refreshAt) this.refreshInBackground(this.dueSecrets, hash, entry);
    } else {
      if (this.unknown.has(hash)) {
        lookups.negative++;
        return { valid: false, code: 'unknown' };
      }
      if (gate && !(await gate.admit())) return { valid: false, code: 'throttled' };
      lookups.miss++;
      entry = await this.readSecret(hash).catch(async (error: unknown) => {
        // The lookup failed (the database is away), so it told nothing: it costs the caller nothing.
        await gate?.refund();
        throw error;
      });
      if (!entry) return { valid: false, code: 'unknown' };
      await gate?.refund();
    }
    const failure = keyStatus(entry.key, now);
    if (failure) return { valid: false, code: failure, keyId: entry.key.id };
    if (entry.secretExpiresAt !== null && entry.secretExpiresAt <= now)
      return { valid: false, code: 'rotated_out', keyId: entry.key.id };
    this.used.set(entry.key.id, now);
    return { valid: true, key: entry.key };
  }

  /**
   * Verifies an OAuth client: public key (client_id) and private key (client_secret).
   * The secret's hash is compared with each live private key of the client in constant time.
   */
  async verifyClient(publicKey: string, secret: string, now = Date.now()): Promise<ClientResult> {
    return this.tallyClient(await this.checkClient(publicKey, secret, now));
  }

  /**
   * Verifies a public client, which authenticates by its client_id alone (RFC 6749 2.1 and 3.2.1,
   * method `none`): there is no secret to compare, only the key's type and status. A confidential
   * client named without its secret is refused before its status is looked at.
   */
  async verifyPublicClient(publicKey: string, now = Date.now()): Promise<ClientResult> {
    return this.tallyClient(await this.checkPublicClient(publicKey, now));
  }

  /** A method that does not fit the client's type counts as a failed authentication of an unknown client. */
  private tallyClient(result: ClientResult): ClientResult {
    if (isWrongMethod(result)) {
      this.stats.results.client.unknown++;
      return result;
    }
    return this.tally('client', result);
  }

  private async checkClient(publicKey: string, secret: string, now: number): Promise<ClientResult> {
    const entry = await this.client(publicKey);
    if (!entry) return { valid: false, code: 'unknown' };
    // A public client has no private key (DESIGN.md 1): any secret presented for it is not its own.
    if (entry.key.clientType === 'public') return { valid: false, code: 'public_client' };
    const presented = Buffer.from(hashSecret(secret));
    let match: { expiresAt: number | null } | undefined;
    for (const candidate of entry.secrets) {
      // Every candidate is compared, so the time taken does not tell which one matched.
      if (candidate.hash.length === presented.length && timingSafeEqual(candidate.hash, presented))
        match = candidate;
    }
    if (!match) return { valid: false, code: 'unknown' };
    const failure = keyStatus(entry.key, now);
    if (failure) return { valid: false, code: failure, keyId: entry.key.id };
    if (match.expiresAt !== null && match.expiresAt <= now)
      return { valid: false, code: 'rotated_out', keyId: entry.key.id };
    this.used.set(entry.key.id, now);
    return { valid: true, key: entry.key };
  }

  private async checkPublicClient(publicKey: string, now: number): Promise<ClientResult> {
    const entry = await this.client(publicKey);
    if (!entry) return { valid: false, code: 'unknown' };
    // A confidential client must prove itself with its secret: its client_id alone is public knowledge.
    if (entry.key.clientType !== 'public') return { valid: false, code: 'confidential_client' };
    const failure = keyStatus(entry.key, now);
    if (failure) return { valid: false, code: failure, keyId: entry.key.id };
    this.used.set(entry.key.id, now);
    return { valid: true, key: entry.key };
  }

  /** The key behind a client_id, from cache when possible (also the bearer check's key-status source). */
  async findClient(publicKey: string): Promise<ApiKey | undefined> {
    return (await this.client(publicKey))?.key;
  }

  private async client(publicKey: string): Promise<ClientEntry | undefined> {
    if (!isPublicKey(publicKey)) return undefined;
    const lookups = this.stats.lookups.client;
    const cached = this.byClient.get(publicKey);
    if (cached) {
      lookups.hit++;
      if (Date.now() >= cached.refreshAt) this.refreshInBackground(this.dueClients, publicKey, cached);
      return cached;
    }
    if (this.unknown.has(publicKey)) {
      lookups.negative++;
      return undefined;
    }
    lookups.miss++;
    return this.readClient(publicKey);
  }

  /**
   * Reads the key of a secret hash and caches it, or remembers the hash as unknown. Lookup by hash
   * through the unique index: the hash of a 256-bit secret reveals nothing, so the index probe's timing
   * is no oracle (the same reasoning as GitHub's token lookup).
   */
  private readSecret(hash: string): Promise<SecretEntry | undefined> {
    return this.readOnce(`s:${hash}`, async (isCurrent) => {
      const found = await findKeyBySecret(this.db, hash);
      if (!found) {
        this.forgetUnknown(this.bySecret, hash);
        return undefined;
      }
      const entry: SecretEntry = { ...found, refreshAt: this.refreshTime() };
      if (isCurrent()) this.remember(this.bySecret, `s:${hash}`, hash, entry, found.key.id);
      return entry;
    });
  }

  /** Reads a client's key and private-key hashes (one statement) and caches them. */
  private readClient(publicKey: string): Promise<ClientEntry | undefined> {
    return this.readOnce(`c:${publicKey}`, async (isCurrent) => {
      const found = await findClientKey(this.db, publicKey);
      if (!found) {
        this.forgetUnknown(this.byClient, publicKey);
        return undefined;
      }
      const entry = this.clientEntry(found);
      if (isCurrent()) this.remember(this.byClient, `c:${publicKey}`, publicKey, entry, found.key.id);
      return entry;
    });
  }

  private clientEntry(found: KeyWithSecrets): ClientEntry {
    return {
      key: found.key,
      secrets: found.secrets.map((s) => ({ hash: Buffer.from(s.hash), expiresAt: s.expiresAt })),
      refreshAt: this.refreshTime(),
    };
  }

  /**
   * Runs one database read per cache key at a time: a miss that finds a read of the same key in flight
   * waits for it instead of sending its own. Only a read that started after the last eviction is
   * shared: one that started before may hold the state from before the change that evicted (a
   * revocation committing meanwhile). Such a read is answered to its own caller but neither cached
   * (`isCurrent()` is false) nor shared.
   */
  private readOnce<T>(cacheKey: string, read: (isCurrent: () => boolean) => Promise<T>): Promise<T> {
    const inFlight = this.reading.get(cacheKey);
    if (inFlight && inFlight.evictions === this.evictions) return inFlight.promise as Promise<T>;
    const evictions = this.evictions;
    const promise = read(() => evictions === this.evictions).finally(() => {
      if (this.reading.get(cacheKey)?.promise === promise) this.reading.delete(cacheKey);
    });
    this.reading.set(cacheKey, { evictions, promise });
    return promise;
  }

  /**
   * Queues an entry due for refresh; the queue is read in batches of `refreshBatch` keys (500), one
   * statement at a time, starting after the current burst of requests (setImmediate), so that entries
   * coming due together share statements. The entry keeps answering meanwhile.
   */
  private refreshInBackground<T extends { refreshAt: number }>(
    due: Map<string, T>,
    raw: string,
    entry: T,
  ): void {
    entry.refreshAt = Number.POSITIVE_INFINITY;
    due.set(raw, entry);
    if (this.refreshing) return;
    this.refreshing = true;
    setImmediate(() => void this.refreshDue());
  }

  private async refreshDue(): Promise<void> {
    try {
      while (this.dueSecrets.size > 0 || this.dueClients.size > 0) {
        const secretsRead = await this.readDueBatch(
          this.dueSecrets,
          this.bySecret,
          (hashes) => findKeysBySecrets(this.db, hashes),
          (hash, found) =>
            this.remember(
              this.bySecret,
              `s:${hash}`,
              hash,
              { ...found, refreshAt: this.refreshTime() },
              found.key.id,
            ),
        );
        const clientsRead = await this.readDueBatch(
          this.dueClients,
          this.byClient,
          (publicKeys) => findClientKeys(this.db, publicKeys),
          (publicKey, found) =>
            this.remember(this.byClient, `c:${publicKey}`, publicKey, this.clientEntry(found), found.key.id),
        );
        if (!secretsRead || !clientsRead) {
          // The database is away: every queued entry keeps answering until its TTL and retries later.
          const retryAt = Date.now() + REFRESH_RETRY_MS;
          for (const due of [this.dueSecrets, this.dueClients] as Map<string, { refreshAt: number }>[]) {
            for (const entry of due.values()) entry.refreshAt = retryAt;
            due.clear();
          }
        }
      }
    } finally {
      this.refreshing = false;
    }
  }

  /**
   * Reads up to `refreshBatch` queued entries in one statement and replaces them. A key that is
   * gone leaves the cache; a batch read across an eviction replaces nothing (it may hold the state from
   * before the change evicted for), and its entries come due again at their next hit. False when the
   * read failed (its entries retry after {@link REFRESH_RETRY_MS}).
   */
  private async readDueBatch<T extends { refreshAt: number }, F extends { key: ApiKey }>(
    due: Map<string, T>,
    cache: LRUCache<string, T>,
    read: (raws: string[]) => Promise<Map<string, F>>,
    replace: (raw: string, found: F) => void,
  ): Promise<boolean> {
    if (due.size === 0) return true;
    const batch: [string, T][] = [];
    for (const item of due) {
      batch.push(item);
      due.delete(item[0]);
      if (batch.length === this.options.refreshBatch) break;
    }
    const evictions = this.evictions;
    let found: Map<string, F>;
    try {
      found = await read(batch.map(([raw]) => raw));
    } catch (error) {
      for (const [, entry] of batch) entry.refreshAt = Date.now() + REFRESH_RETRY_MS;
      this.options.onError(error);
      return false;
    }
    const current = evictions === this.evictions;
    for (const [raw, entry] of batch) {
      const key = found.get(raw);
      if (!key) this.forgetUnknown(cache, raw);
      else if (current) replace(raw, key);
      else entry.refreshAt = Date.now();
    }
    return true;
  }

  /** A key that is gone (its secrets deleted) leaves the cache at once, and is remembered as unknown. */
  private forgetUnknown<T extends {}>(cache: LRUCache<string, T>, raw: string): void {
    cache.delete(raw);
    this.unknown.set(raw, true);
  }

  /** When a fresh entry is due for a background refresh: between a half and three quarters of the TTL. */
  private refreshTime(): number {
    return Date.now() + this.options.ttlMs * (0.5 + Math.random() / 4);
  }

  /** Calls `listener` whenever a key is invalidated (revoked, rotated) on this instance. */
  onInvalidate(listener: (keyId: number) => void): void {
    this.invalidationListeners.push(listener);
  }

  /** Drops every cached entry of a key on this instance. */
  invalidate(keyId: number): void {
    this.evictions++;
    for (const listener of this.invalidationListeners) listener(keyId);
    const cacheKeys = this.index.get(keyId);
    if (!cacheKeys) return;
    for (const cacheKey of [...cacheKeys]) {
      if (cacheKey.startsWith('s:')) this.bySecret.delete(cacheKey.slice(2));
      else this.byClient.delete(cacheKey.slice(2));
    }
  }

  private remember<T extends {}>(
    cache: LRUCache<string, T>,
    tagged: string,
    raw: string,
    value: T,
    keyId: number,
  ) {
    // TTLs spread over the last quarter of the bound: keys first seen together (a restart, a burst of
    // clients) and not used since would otherwise all expire together (keys in use are refreshed first).
    cache.set(raw, value, { ttl: this.options.ttlMs * (0.75 + Math.random() / 4) });
    const set = this.index.get(keyId);
    if (set) set.add(tagged);
    else this.index.set(keyId, new Set([tagged]));
  }

  private unindex(keyId: number, tagged: string): void {
    const set = this.index.get(keyId);
    if (!set) return;
    set.delete(tagged);
    if (set.size === 0) this.index.delete(keyId);
  }

  /** Reads new invalidation events (and late commits of skipped ids) and drops the keys they name. */
  async poll(): Promise<void> {
    for (const event of await this.feed.poll()) this.invalidate(event.apiKeyId);
  }

  /** Drops the keys of recent invalidation events that no poll delivered. */
  async resync(): Promise<void> {
    for (const event of await this.feed.resync()) this.invalidate(event.apiKeyId);
  }

  /**
   * Writes the batched last-used times. A batch that fails to write (the database is away) is merged
   * back, keeping the later time of each key, and written by a later flush: nothing is lost, and
   * memory stays bounded by one entry per key in use, however long the outage.
   */
  async flush(): Promise<void> {
    if (this.used.size === 0) return;
    const batch = new Map(this.used);
    this.used.clear();
    try {
      await recordKeyUse(this.db, batch);
    } catch (error) {
      for (const [keyId, at] of batch) this.used.set(keyId, Math.max(at, this.used.get(keyId) ?? 0));
      throw error;
    }
  }

  /** Whether background refreshes are queued or being read. */
  get refreshPending(): boolean {
    return this.refreshing;
  }

  /** How many keys' last-used times wait for the next flush. */
  get pendingLastUsed(): number {
    return this.used.size;
  }
}
