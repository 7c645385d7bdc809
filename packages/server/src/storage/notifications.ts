import pg from 'pg';
import type { Storage } from './database.ts';

/**
 * A committed change, as the triggers of migration 008 describe it. `at` is the database server's clock
 * when the change was written (epoch ms), from which the receiver measures how late it applied it.
 */
export type ChangeNotice =
  | { table: 'invalidations' | 'signing_keys'; at: number }
  | { table: 'revoked_tokens'; at: number; jti: string; clientId: string; expiresAt: number }
  | { table: UserTable; at: number; userId: number };

/** Tables whose notifications name the user whose rows changed. */
export type UserTable = 'memberships' | 'membership_workspaces' | 'consents';

/** What a {@link ChangeNotifications} tells its owner. */
export interface ChangeNotificationHandlers {
  /** A change committed (on any instance, by the CLI, or by hand in SQL). */
  onNotice(notice: ChangeNotice): void;
  /**
   * LISTEN is in effect, after the first connection or (`reconnected`) a later one. Changes committed
   * while nothing listened were not announced: the owner reads what it may have missed.
   */
  onListening(reconnected: boolean): void;
  /** Once per outage, when the connection is lost or cannot be made; the retries that follow are silent. */
  onDown(error: Error): void;
  /** A payload on our channel that is not one of ours (a hand-made NOTIFY): ignored. */
  onMalformed?(): void;
}

export interface ChangeNotificationOptions {
  /** First delay before reconnecting; doubled after each failed attempt up to `maxBackoffMs`. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /**
   * Interval of a `select 1` on the listening connection. A connection cut without a FIN (a network
   * partition) raises no error by itself; a heartbeat that gets no answer within `heartbeatTimeoutMs`
   * counts as a lost connection.
   */
  heartbeatMs?: number;
  heartbeatTimeoutMs?: number;
}

/** Connection settings the listener takes from the pool: the same server, credentials and search_path. */
const CLIENT_SETTINGS = [
  'connectionString',
  'host',
  'port',
  'user',
  'password',
  'database',
  'ssl',
  'options',
  'types',
  'client_encoding',
  'connectionTimeoutMillis',
] as const satisfies readonly (keyof pg.ClientConfig)[];

/** How long a connection attempt may take when the pool sets no limit: a hung attempt must not stall the retries. */
const CONNECT_TIMEOUT_MS = 5000;

/** Tells apart the listeners of the instances of one process (tests run several), in `pg_stat_activity`. */
let listenerCount = 0;

/**
 * Listens for changes on PostgreSQL; null on SQLite, which has no LISTEN (its instances poll).
 * Call {@link ChangeNotifications.start} to connect.
 */
export function listenForChanges(
  storage: Storage,
  handlers: ChangeNotificationHandlers,
  options: ChangeNotificationOptions = {},
): ChangeNotifications | null {
  if (!storage.pool) return null;
  const config: pg.ClientConfig = {};
  for (const setting of CLIENT_SETTINGS) {
    const value = storage.pool.options[setting];
    // Each value comes from the same key of a PoolConfig, which extends ClientConfig.
    if (value !== undefined) Object.assign(config, { [setting]: value });
  }
  config.connectionTimeoutMillis ||= CONNECT_TIMEOUT_MS;
  config.keepAlive = true;
  return new ChangeNotifications(config, handlers, options);
}

/**
 * One dedicated PostgreSQL connection (never a pool's: LISTEN belongs to a session, and a pooled
 * connection goes back to others) that LISTENs on this schema's change channel. It reconnects by itself
 * after any loss (a database restart, `pg_terminate_backend`, a cut network) with a backoff of 100 ms
 * doubling to 5 s, LISTENs again and tells its owner to catch up. It never throws into the process:
 * errors go to `onDown`, once per outage. Its `application_name` is {@link applicationName}.
 */
export class ChangeNotifications {
  /** This connection's `application_name`: `gatehouse-changes <pid>.<n>`. */
  readonly applicationName = `gatehouse-changes ${process.pid}.${++listenerCount}`;
  private client: pg.Client | undefined;
  private listening = false;
  private everListened = false;
  private closed = false;
  /** An outage was reported and has not ended. */
  private down = false;
  private backoffMs: number;
  private retry: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly settings: Required<ChangeNotificationOptions>;

  constructor(
    private readonly config: pg.ClientConfig,
    private readonly handlers: ChangeNotificationHandlers,
    options: ChangeNotificationOptions = {},
  ) {
    this.settings = {
      minBackoffMs: 100,
      maxBackoffMs: 5000,
      heartbeatMs: 10_000,
      heartbeatTimeoutMs: 5000,
      ...options,
    };
    this.backoffMs = this.settings.minBackoffMs;
  }

  /** Whether LISTEN is in effect now. */
  get isListening(): boolean {
    return this.listening;
  }

  /** Connects and LISTENs; resolves after the first attempt, failed or not (a failure retries in the background). */
  start(): Promise<void> {
    return this.connect();
  }

  /** Stops listening (UNLISTEN) and closes the connection; no reconnection follows. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    clearInterval(this.heartbeat);
    const client = this.client;
    this.client = undefined;
    this.listening = false;
    if (!client) return;
    // Bounded: a connection the network silently dropped would otherwise hold up the shutdown.
    await settledWithin(client.query('unlisten *'), this.settings.heartbeatTimeoutMs);
    await settledWithin(client.end(), this.settings.heartbeatTimeoutMs);
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ ...this.config, application_name: this.applicationName });
    this.client = client;
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, new Error('the connection ended')));
    client.on('notification', (message) => this.receive(message));
    try {
      await client.connect();
      const channel = await channelOf(client);
      await client.query(`listen ${client.escapeIdentifier(channel)}`);
    } catch (error) {
      this.lost(client, error);
      return;
    }
    // Closed, or lost, while connecting.
    if (this.client !== client) return;
    this.listening = true;
    const reconnected = this.everListened;
    this.everListened = true;
    this.down = false;
    this.backoffMs = this.settings.minBackoffMs;
    this.heartbeat = setInterval(() => void this.beat(client), this.settings.heartbeatMs);
    this.heartbeat.unref();
    this.handlers.onListening(reconnected);
  }

  /** Drops `client` (once, whatever reported it first) and schedules the next attempt. */
  private lost(client: pg.Client, error: unknown): void {
    if (this.client !== client) return;
    this.client = undefined;
    this.listening = false;
    clearInterval(this.heartbeat);
    // Its socket may already be gone: errors from here on concern nobody.
    client.on('error', () => {});
    void client.end().catch(() => {});
    if (this.closed) return;
    if (!this.down) {
      this.down = true;
      this.handlers.onDown(
        new Error('PostgreSQL change notifications: the listening connection was lost; reconnecting', {
          cause: error,
        }),
      );
    }
    this.retry = setTimeout(() => void this.connect(), this.backoffMs);
    this.retry.unref();
    this.backoffMs = Math.min(this.backoffMs * 2, this.settings.maxBackoffMs);
  }

  private async beat(client: pg.Client): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error('the listening connection did not answer a heartbeat')),
        this.settings.heartbeatTimeoutMs,
      );
    });
    try {
      await Promise.race([client.query('select 1'), timeout]);
    } catch (error) {
      this.lost(client, error);
    } finally {
      clearTimeout(timer);
    }
  }

  private receive(message: pg.Notification): void {
    const notice = parseNotice(message.payload);
    if (!notice) {
      this.handlers.onMalformed?.();
      return;
    }
    this.handlers.onNotice(notice);
  }
}

/** Waits for `work` to settle, at most `ms`; never throws. */
async function settledWithin(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  try {
    await Promise.race([work.then(noop, noop), late]);
  } finally {
    clearTimeout(timer);
  }
}

const noop = () => {};

/**
 * The channel of the schema that holds our tables, as the triggers name it (migration 008): asked of
 * the database, so that both sides use one definition and the schema the pool's search_path resolves.
 */
async function channelOf(client: pg.Client): Promise<string> {
  const result = await client.query<{ channel: string }>(
    `select gatehouse_change_channel(n.nspname) as channel
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.oid = to_regclass('invalidations')`,
  );
  const channel = result.rows[0]?.channel;
  if (!channel) throw new Error('no change channel: the migrations have not run on this schema');
  return channel;
}

const USER_TABLES: ReadonlySet<string> = new Set<UserTable>([
  'memberships',
  'membership_workspaces',
  'consents',
]);

/** A trigger's payload as a {@link ChangeNotice}, or undefined for anything else. */
export function parseNotice(payload: string | undefined): ChangeNotice | undefined {
  let data: unknown;
  try {
    data = JSON.parse(payload ?? '');
  } catch {
    return undefined;
  }
  if (typeof data !== 'object' || data === null) return undefined;
  const fields = data as Record<string, unknown>;
  const { table, at, jti, client_id: clientId, expires_at: expiresAt, user_id: userId } = fields;
  if (typeof at !== 'number' || !Number.isFinite(at)) return undefined;
  if (table === 'invalidations' || table === 'signing_keys') return { table, at };
  if (table === 'revoked_tokens') {
    if (typeof jti !== 'string' || typeof clientId !== 'string' || typeof expiresAt !== 'number')
      return undefined;
    return { table, at, jti, clientId, expiresAt };
  }
  if (typeof table === 'string' && USER_TABLES.has(table) && Number.isSafeInteger(userId)) {
    // Checked just above: one of the user tables, and an integer.
    return { table: table as UserTable, at, userId: userId as number };
  }
  return undefined;
}
