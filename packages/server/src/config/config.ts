import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Every setting of Gatehouse, validated once at start and frozen. */
export interface Config {
  readonly mode: 'development' | 'production';
  readonly host: string;
  readonly port: number;
  /** Public base URL without a trailing slash: the `iss` of every token. */
  readonly issuer: string;
  /** `postgres://...` URL, or a SQLite file path. */
  readonly databaseUrl: string;
  /** Server secret: keys the encryption of signing keys at rest. */
  readonly secret: string;
  readonly tlsCert: string | null;
  readonly tlsKey: string | null;
  /**
   * false: ignore X-Forwarded-*; a number: that many proxies in front (the client address is the one
   * the outermost of them appended); a list: only these proxy addresses or CIDR ranges.
   */
  readonly trustProxy: false | number | readonly string[];
  readonly redisUrl: string | null;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Access token lifetime in seconds. */
  readonly accessTokenTtl: number;
  /** Refresh token sliding lifetime in seconds. */
  readonly refreshTokenTtl: number;
  /** Requests per minute allowed per credential on the API and token endpoint. */
  readonly rateLimitPerMinute: number;
  /** Requests per minute allowed per client IP on `/connect/*` (the OAuth endpoints). */
  readonly tokenRateLimitPerMinute: number;
  /** API requests per minute per client IP whose credential fails (or that send none). */
  readonly authFailureLimitPerMinute: number;
  /** Prefix of every Redis key Gatehouse writes, so that deployments can share one Redis. */
  readonly redisPrefix: string;
  /** Serve Prometheus metrics at `/metrics`. */
  readonly metrics: boolean;
  /**
   * `GATEHOUSE_METRICS_TOKEN`: when set (16 characters or more), `/metrics` answers only requests that
   * send `Authorization: Bearer <token>`; when unset, it is open, as for a scraper on a private network.
   */
  readonly metricsToken: string | null;
  /**
   * Where OpenTelemetry traces go (OTLP over HTTP, JSON): `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as it is,
   * else `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces` (the OTLP exporter specification). Null: no tracing,
   * and the OpenTelemetry SDK is never loaded.
   */
  readonly tracesEndpoint: string | null;
  /** Days an audit event is kept before the retention job deletes it (`GATEHOUSE_AUDIT_RETENTION_DAYS`). */
  readonly auditRetentionDays: number;
  /**
   * Seconds a stopping server (SIGTERM, SIGINT) gives the requests in flight to finish before it closes
   * their connections (`GATEHOUSE_SHUTDOWN_TIMEOUT`).
   */
  readonly shutdownTimeout: number;
  /**
   * Processes that serve the port (`GATEHOUSE_WORKERS`, `auto` for one per core): with 1 the process
   * serves by itself; with more, it forks that many workers (`node:cluster`) and supervises them.
   */
  readonly workers: number;
}

/** A bad setting: the message names the variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
  }
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The nearest folder from `start` upward that holds a package.json, with that file read. */
function packageAbove(start: string): { dir: string; manifest: { workspaces?: unknown } } | undefined {
  for (let dir = start; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) return { dir, manifest: JSON.parse(readFileSync(file, 'utf8')) };
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * The project folder: the npm workspace root that holds this package (the repository), else the
 * package's own folder. Found from where this code lies, never from the current folder, so that
 * `npm start` (the bundle in dist/) and `npx gatehouse` run from any folder (the sources in src/) use
 * the same data folder, and a command run elsewhere cannot start a second, empty database there.
 */
export function projectDirectory(): string {
  const pkg = packageAbove(dirname(fileURLToPath(import.meta.url)));
  if (!pkg) return resolve('.');
  for (let above = packageAbove(dirname(pkg.dir)); above; above = packageAbove(dirname(above.dir))) {
    if (above.manifest.workspaces !== undefined) return above.dir;
    if (dirname(above.dir) === above.dir) break;
  }
  return pkg.dir;
}

/** Where the SQLite database is when `GATEHOUSE_DATABASE_URL` is not set: `data/gatehouse.db` of the project. */
export function defaultDatabasePath(): string {
  return join(projectDirectory(), 'data', 'gatehouse.db');
}

function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === '' ? undefined : value;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be an integer, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}`);
  return value;
}

function boolean(env: Env, name: string, fallback = false): boolean {
  const raw = read(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (raw === 'false' || raw === '0') return false;
  if (raw === 'true' || raw === '1') return true;
  throw new ConfigError(name, `must be true or false, got "${raw}"`);
}

function baseUrl(name: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `must be an absolute URL, got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(name, 'must be http(s)');
  if (url.search || url.hash) throw new ConfigError(name, 'must not have a query or fragment');
  return url.href.replace(/\/$/, '');
}

/** Data directory: beside the SQLite file, else the project's data folder. */
export function dataDirectory(databaseUrl: string): string {
  return isPostgresUrl(databaseUrl) ? join(projectDirectory(), 'data') : dirname(resolve(databaseUrl));
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url);
}

/**
 * The development secret lives in the data directory so that restarts keep signing keys readable.
 * Production never generates one: losing it would make every stored signing key unreadable.
 */
function developmentSecret(databaseUrl: string): string {
  const file = join(dataDirectory(databaseUrl), 'secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = randomBytes(32).toString('base64url');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  return secret;
}

/**
 * `false`, `true` (one proxy), a number of proxies, or a comma-separated list of proxy addresses and
 * CIDR ranges. `true` is one hop, not "trust everything": X-Forwarded-For is a list that the client
 * starts, so only the address the proxy appended (the right-most) says who connected to it; trusting
 * every entry would let a client choose its own address (and so its rate-limit budget and audit IP).
 */
function proxies(env: Env): false | number | readonly string[] {
  const raw = read(env, 'GATEHOUSE_TRUST_PROXY');
  if (raw !== undefined && /^\d{1,2}$/.test(raw)) return Number(raw) === 0 ? false : Number(raw);
  if (raw === undefined || (!raw.includes('.') && !raw.includes(':')))
    return boolean(env, 'GATEHOUSE_TRUST_PROXY') ? 1 : false;
  const list = raw.split(',').map((entry) => entry.trim());
  for (const entry of list) {
    const [address = '', prefix, ...rest] = entry.split('/');
    const version = isIP(address);
    const bits = version === 4 ? 32 : 128;
    const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits);
    if (version === 0 || !prefixOk || rest.length) {
      throw new ConfigError('GATEHOUSE_TRUST_PROXY', `"${entry}" is not an IP address or CIDR range`);
    }
  }
  return Object.freeze(list);
}

/** `GATEHOUSE_METRICS_TOKEN`, long enough that it cannot be guessed by a scraper's neighbours. */
function metricsToken(env: Env): string | null {
  const token = read(env, 'GATEHOUSE_METRICS_TOKEN');
  if (token === undefined) return null;
  // Never echoed: the message names the rule, not the value.
  if (token.length < 16) throw new ConfigError('GATEHOUSE_METRICS_TOKEN', 'must be at least 16 characters');
  if (!/^[\x21-\x7e]+$/.test(token)) {
    throw new ConfigError('GATEHOUSE_METRICS_TOKEN', 'must be printable ASCII without spaces');
  }
  return token;
}

/** The OTLP/HTTP traces URL (OpenTelemetry Protocol Exporter specification, "Endpoint URLs for OTLP/HTTP"). */
function tracesEndpoint(env: Env): string | null {
  const signal = read(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  if (signal !== undefined) return otlpUrl('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', signal);
  const base = read(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  if (base === undefined) return null;
  return `${otlpUrl('OTEL_EXPORTER_OTLP_ENDPOINT', base).replace(/\/$/, '')}/v1/traces`;
}

function otlpUrl(name: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, 'must be an absolute http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(name, 'must be http(s)');
  return url.href;
}

/**
 * Most workers `GATEHOUSE_WORKERS` may ask for, `auto` included: each one holds its own database pool
 * and caches, so a number beyond any machine's cores is likelier a typo than a plan.
 */
export const MAX_WORKERS = 64;

/** `GATEHOUSE_WORKERS`: a whole number from 1 to {@link MAX_WORKERS}, or `auto`, one per core. */
function workers(env: Env): number {
  const raw = read(env, 'GATEHOUSE_WORKERS');
  if (raw === undefined) return 1;
  if (raw.toLowerCase() === 'auto') return Math.min(availableParallelism(), MAX_WORKERS);
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_WORKERS) {
    throw new ConfigError(
      'GATEHOUSE_WORKERS',
      `must be a number of processes from 1 to ${MAX_WORKERS}, or auto (one per core), got "${raw}"`,
    );
  }
  return Number(raw);
}

/** Reads every `GATEHOUSE_*` setting; throws {@link ConfigError} naming the first bad variable. */
export function loadConfig(env: Env = process.env): Config {
  const modeRaw =
    read(env, 'GATEHOUSE_MODE') ?? (env.NODE_ENV === 'production' ? 'production' : 'development');
  if (modeRaw !== 'development' && modeRaw !== 'production') {
    throw new ConfigError('GATEHOUSE_MODE', 'must be development or production');
  }
  const mode = modeRaw;
  const host = read(env, 'GATEHOUSE_HOST') ?? '127.0.0.1';
  const port = integer(env, 'GATEHOUSE_PORT', 8080, 0, 65535);
  const databaseUrl = read(env, 'GATEHOUSE_DATABASE_URL') ?? defaultDatabasePath();
  const tlsCert = read(env, 'GATEHOUSE_TLS_CERT') ?? null;
  const tlsKey = read(env, 'GATEHOUSE_TLS_KEY') ?? null;
  if ((tlsCert === null) !== (tlsKey === null)) {
    throw new ConfigError(
      tlsCert ? 'GATEHOUSE_TLS_KEY' : 'GATEHOUSE_TLS_CERT',
      'TLS needs both a certificate and a key',
    );
  }
  for (const [name, file] of [
    ['GATEHOUSE_TLS_CERT', tlsCert],
    ['GATEHOUSE_TLS_KEY', tlsKey],
  ] as const) {
    if (file !== null && !existsSync(file)) throw new ConfigError(name, `file not found: ${file}`);
  }
  const trustProxy = proxies(env);
  const scheme = tlsCert ? 'https' : 'http';
  const displayHost = host.includes(':') ? `[${host}]` : host;
  const issuer = baseUrl(
    'GATEHOUSE_ISSUER',
    read(env, 'GATEHOUSE_ISSUER') ?? `${scheme}://${displayHost}:${port}`,
  );

  let secret = read(env, 'GATEHOUSE_SECRET');
  if (secret !== undefined && secret.length < 32) {
    throw new ConfigError(
      'GATEHOUSE_SECRET',
      'must be at least 32 characters (try: openssl rand -base64 32)',
    );
  }
  if (mode === 'production') {
    if (secret === undefined) throw new ConfigError('GATEHOUSE_SECRET', 'is required in production');
    if (!tlsCert && !trustProxy) {
      throw new ConfigError(
        'GATEHOUSE_TLS_CERT',
        'production needs TLS (GATEHOUSE_TLS_CERT/KEY) or GATEHOUSE_TRUST_PROXY (the proxy addresses, or true)',
      );
    }
    if (!issuer.startsWith('https://'))
      throw new ConfigError('GATEHOUSE_ISSUER', 'must be https in production');
  }
  secret ??= developmentSecret(databaseUrl);

  const redisUrl = read(env, 'GATEHOUSE_REDIS_URL') ?? null;
  if (redisUrl !== null && !/^rediss?:\/\//.test(redisUrl)) {
    throw new ConfigError('GATEHOUSE_REDIS_URL', 'must be a redis:// or rediss:// URL');
  }
  const redisPrefix = read(env, 'GATEHOUSE_REDIS_PREFIX') ?? 'gatehouse:';
  if (!/^[\w:.-]{1,64}$/.test(redisPrefix)) {
    throw new ConfigError('GATEHOUSE_REDIS_PREFIX', 'must be 1 to 64 letters, digits, or _ : . -');
  }
  const logLevel = read(env, 'GATEHOUSE_LOG_LEVEL') ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError('GATEHOUSE_LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);
  }

  return Object.freeze({
    mode,
    host,
    port,
    issuer,
    databaseUrl,
    secret,
    tlsCert,
    tlsKey,
    trustProxy,
    redisUrl,
    logLevel: logLevel as Config['logLevel'],
    accessTokenTtl: integer(env, 'GATEHOUSE_ACCESS_TOKEN_TTL', 3600, 60, 86_400),
    refreshTokenTtl: integer(env, 'GATEHOUSE_REFRESH_TOKEN_TTL', 30 * 86_400, 3600, 365 * 86_400),
    rateLimitPerMinute: integer(env, 'GATEHOUSE_RATE_LIMIT', 6000, 1, 10_000_000),
    tokenRateLimitPerMinute: integer(env, 'GATEHOUSE_TOKEN_RATE_LIMIT', 600, 1, 10_000_000),
    authFailureLimitPerMinute: integer(env, 'GATEHOUSE_AUTH_FAILURE_LIMIT', 60, 1, 10_000_000),
    redisPrefix,
    metrics: boolean(env, 'GATEHOUSE_METRICS', true),
    metricsToken: metricsToken(env),
    tracesEndpoint: tracesEndpoint(env),
    auditRetentionDays: integer(env, 'GATEHOUSE_AUDIT_RETENTION_DAYS', 365, 1, 36_500),
    shutdownTimeout: integer(env, 'GATEHOUSE_SHUTDOWN_TIMEOUT', 10, 1, 3600),
    workers: workers(env),
  });
}
