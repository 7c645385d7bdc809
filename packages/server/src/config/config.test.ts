import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, MAX_WORKERS } from './config.ts';

const SECRET = 'a-test-secret-of-more-than-32-characters';
const dir = mkdtempSync(join(tmpdir(), 'gatehouse-config-'));
const cert = join(dir, 'cert.pem');
const key = join(dir, 'key.pem');
writeFileSync(cert, 'not really a certificate');
writeFileSync(key, 'not really a key');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A valid development environment, so that each case changes one thing only. */
const base = { GATEHOUSE_SECRET: SECRET, GATEHOUSE_DATABASE_URL: join(dir, 'db.sqlite') };
const production = {
  ...base,
  GATEHOUSE_MODE: 'production',
  GATEHOUSE_TRUST_PROXY: 'true',
  GATEHOUSE_ISSUER: 'https://auth.example.com',
};

function failure(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('has safe development defaults', () => {
    const config = loadConfig(base);
    expect(config).toMatchObject({
      mode: 'development',
      host: '127.0.0.1',
      port: 8080,
      issuer: 'http://127.0.0.1:8080',
      trustProxy: false,
      redisUrl: null,
      redisPrefix: 'gatehouse:',
      logLevel: 'info',
      accessTokenTtl: 3600,
      refreshTokenTtl: 30 * 86_400,
      rateLimitPerMinute: 6000,
      tokenRateLimitPerMinute: 600,
      metrics: true,
    });
  });

  it('returns a frozen object', () => {
    const config = loadConfig(base);
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow();
  });

  it('accepts a safe production configuration', () => {
    expect(loadConfig(production).mode).toBe('production');
    expect(loadConfig({ ...production, GATEHOUSE_MODE: '', NODE_ENV: 'production' }).mode).toBe('production');
  });

  it('reads a list of trusted proxy addresses and ranges', () => {
    const config = loadConfig({ ...production, GATEHOUSE_TRUST_PROXY: '10.0.0.5, 192.168.0.0/16,::1' });
    expect(config.trustProxy).toEqual(['10.0.0.5', '192.168.0.0/16', '::1']);
  });

  it('reads the new operational settings', () => {
    const config = loadConfig({
      ...base,
      GATEHOUSE_TOKEN_RATE_LIMIT: '30',
      GATEHOUSE_METRICS: 'false',
      GATEHOUSE_REDIS_URL: 'redis://127.0.0.1:6379',
      GATEHOUSE_REDIS_PREFIX: 'tenant-x:gh.1',
    });
    expect(config).toMatchObject({
      tokenRateLimitPerMinute: 30,
      metrics: false,
      redisUrl: 'redis://127.0.0.1:6379',
      redisPrefix: 'tenant-x:gh.1',
    });
  });

  it('strips a trailing slash from the issuer', () => {
    expect(loadConfig({ ...base, GATEHOUSE_ISSUER: 'https://auth.example.com/' }).issuer).toBe(
      'https://auth.example.com',
    );
  });

  it.each<[string, Record<string, string>, string]>([
    ['a non-numeric port', { GATEHOUSE_PORT: 'http' }, 'GATEHOUSE_PORT'],
    ['a port out of range', { GATEHOUSE_PORT: '70000' }, 'GATEHOUSE_PORT'],
    ['a negative port', { GATEHOUSE_PORT: '-1' }, 'GATEHOUSE_PORT'],
    ['an unknown mode', { GATEHOUSE_MODE: 'staging' }, 'GATEHOUSE_MODE'],
    ['a certificate without its key', { GATEHOUSE_TLS_CERT: cert }, 'GATEHOUSE_TLS_KEY'],
    ['a key without its certificate', { GATEHOUSE_TLS_KEY: key }, 'GATEHOUSE_TLS_CERT'],
    [
      'a certificate file that does not exist',
      { GATEHOUSE_TLS_CERT: join(dir, 'missing.pem'), GATEHOUSE_TLS_KEY: key },
      'GATEHOUSE_TLS_CERT',
    ],
    ['a short secret', { GATEHOUSE_SECRET: 'too-short' }, 'GATEHOUSE_SECRET'],
    ['a trust-proxy value that is not a boolean', { GATEHOUSE_TRUST_PROXY: 'yes' }, 'GATEHOUSE_TRUST_PROXY'],
    [
      'a trust-proxy list with a bad address',
      { GATEHOUSE_TRUST_PROXY: '10.0.0.1, 10.0.0.300' },
      'GATEHOUSE_TRUST_PROXY',
    ],
    [
      'a trust-proxy range with a bad prefix',
      { GATEHOUSE_TRUST_PROXY: '10.0.0.0/33' },
      'GATEHOUSE_TRUST_PROXY',
    ],
    ['an issuer that is not a URL', { GATEHOUSE_ISSUER: 'auth.example.com' }, 'GATEHOUSE_ISSUER'],
    ['an issuer with another scheme', { GATEHOUSE_ISSUER: 'ftp://auth.example.com' }, 'GATEHOUSE_ISSUER'],
    ['an issuer with a query', { GATEHOUSE_ISSUER: 'https://auth.example.com/?a=1' }, 'GATEHOUSE_ISSUER'],
    ['an unknown log level', { GATEHOUSE_LOG_LEVEL: 'verbose' }, 'GATEHOUSE_LOG_LEVEL'],
    [
      'a Redis URL of another scheme',
      { GATEHOUSE_REDIS_URL: 'http://127.0.0.1:6379' },
      'GATEHOUSE_REDIS_URL',
    ],
    ['a Redis prefix with spaces', { GATEHOUSE_REDIS_PREFIX: 'my prefix' }, 'GATEHOUSE_REDIS_PREFIX'],
    ['a zero rate limit', { GATEHOUSE_RATE_LIMIT: '0' }, 'GATEHOUSE_RATE_LIMIT'],
    ['a fractional rate limit', { GATEHOUSE_RATE_LIMIT: '1.5' }, 'GATEHOUSE_RATE_LIMIT'],
    ['a non-numeric token rate limit', { GATEHOUSE_TOKEN_RATE_LIMIT: 'many' }, 'GATEHOUSE_TOKEN_RATE_LIMIT'],
    ['a metrics value that is not a boolean', { GATEHOUSE_METRICS: 'maybe' }, 'GATEHOUSE_METRICS'],
    [
      'an access token TTL under a minute',
      { GATEHOUSE_ACCESS_TOKEN_TTL: '10' },
      'GATEHOUSE_ACCESS_TOKEN_TTL',
    ],
    [
      'a refresh token TTL over a year',
      { GATEHOUSE_REFRESH_TOKEN_TTL: '99999999' },
      'GATEHOUSE_REFRESH_TOKEN_TTL',
    ],
  ])('stops on %s, naming the variable', (_name, overrides, variable) => {
    const error = failure({ ...base, ...overrides });
    expect(error.variable).toBe(variable);
    expect(error.message.startsWith(`${variable}: `)).toBe(true);
  });

  it.each<[string, Record<string, string>, string]>([
    ['without a secret', { GATEHOUSE_SECRET: '' }, 'GATEHOUSE_SECRET'],
    ['without TLS or a trusted proxy', { GATEHOUSE_TRUST_PROXY: 'false' }, 'GATEHOUSE_TLS_CERT'],
    ['with an http issuer', { GATEHOUSE_ISSUER: 'http://auth.example.com' }, 'GATEHOUSE_ISSUER'],
    ['with the default (http) issuer', { GATEHOUSE_ISSUER: '' }, 'GATEHOUSE_ISSUER'],
  ])('refuses production %s', (_name, overrides, variable) => {
    expect(failure({ ...production, ...overrides }).variable).toBe(variable);
  });

  it('never repeats a rejected secret in its message', () => {
    const secret = 'short-but-secret-value';
    expect(failure({ ...base, GATEHOUSE_SECRET: secret }).message).not.toContain(secret);
  });

  it('generates a development secret once, beside the database, readable only by its owner', () => {
    const devDir = mkdtempSync(join(tmpdir(), 'gatehouse-devsecret-'));
    try {
      const env = { GATEHOUSE_DATABASE_URL: join(devDir, 'gatehouse.db') };
      const first = loadConfig(env).secret;
      expect(first.length).toBeGreaterThanOrEqual(32);
      expect(loadConfig(env).secret).toBe(first);
      const file = join(devDir, 'secret');
      expect(readFileSync(file, 'utf8').trim()).toBe(first);
      expect(statSync(file).mode & 0o077).toBe(0);
    } finally {
      rmSync(devDir, { recursive: true, force: true });
    }
  });
});

describe('GATEHOUSE_AUDIT_RETENTION_DAYS', () => {
  it('keeps audit events for 365 days by default', () => {
    expect(loadConfig(base).auditRetentionDays).toBe(365);
  });

  it('reads a retention in whole days', () => {
    expect(loadConfig({ ...base, GATEHOUSE_AUDIT_RETENTION_DAYS: '30' }).auditRetentionDays).toBe(30);
  });

  it.each(['0', '36501', '-1', '7.5', 'forever'])('refuses %s, naming the variable', (value) => {
    const error = failure({ ...base, GATEHOUSE_AUDIT_RETENTION_DAYS: value });
    expect(error.variable).toBe('GATEHOUSE_AUDIT_RETENTION_DAYS');
    expect(error.message).toMatch(/^GATEHOUSE_AUDIT_RETENTION_DAYS: /);
  });
});

describe('GATEHOUSE_METRICS_TOKEN', () => {
  it('leaves /metrics open when unset', () => {
    expect(loadConfig(base).metricsToken).toBeNull();
  });

  it('reads a token of 16 characters or more', () => {
    const token = 'a-metrics-token-of-32-characters';
    expect(loadConfig({ ...base, GATEHOUSE_METRICS_TOKEN: token }).metricsToken).toBe(token);
  });

  it.each(['too-short-token', 'has a space in it, 16+', 'tab\tseparated-token'])(
    'refuses %j without repeating it',
    (token) => {
      const error = failure({ ...base, GATEHOUSE_METRICS_TOKEN: token });
      expect(error.variable).toBe('GATEHOUSE_METRICS_TOKEN');
      expect(error.message).not.toContain(token);
    },
  );
});

describe('OpenTelemetry endpoint', () => {
  it('traces nothing unless an OTLP endpoint is set', () => {
    expect(loadConfig(base).tracesEndpoint).toBeNull();
  });

  it.each([
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, 'http://collector:4318/v1/traces'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otel.example/base/' }, 'https://otel.example/base/v1/traces'],
    [
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://traces:9999/custom',
      },
      'http://traces:9999/custom',
    ],
  ])('sends traces for %j to %s (the OTLP exporter specification)', (env, url) => {
    expect(loadConfig({ ...base, ...env }).tracesEndpoint).toBe(url);
  });

  it.each(['collector:4318', 'grpc://collector:4317', 'not a url'])('refuses %j', (endpoint) => {
    expect(failure({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }).variable).toBe(
      'OTEL_EXPORTER_OTLP_ENDPOINT',
    );
  });
});

describe('GATEHOUSE_WORKERS', () => {
  it('serves from one process by default', () => {
    expect(loadConfig(base).workers).toBe(1);
    expect(loadConfig({ ...base, GATEHOUSE_WORKERS: '' }).workers).toBe(1);
  });

  it.each([
    ['1', 1],
    ['2', 2],
    [' 8 ', 8],
    [String(MAX_WORKERS), MAX_WORKERS],
  ])('reads %j as %i workers', (value, expected) => {
    expect(loadConfig({ ...base, GATEHOUSE_WORKERS: value }).workers).toBe(expected);
  });

  it.each(['auto', 'AUTO'])('reads %j as one worker per core', (value) => {
    const cores = Math.min(availableParallelism(), MAX_WORKERS);
    expect(loadConfig({ ...base, GATEHOUSE_WORKERS: value }).workers).toBe(cores);
  });

  it.each(['0', '-1', 'x', '1.5', '2 workers', String(MAX_WORKERS + 1), '1000000'])(
    'refuses %j, naming the variable and what it takes',
    (value) => {
      const error = failure({ ...base, GATEHOUSE_WORKERS: value });
      expect(error.variable).toBe('GATEHOUSE_WORKERS');
      expect(error.message).toBe(
        `GATEHOUSE_WORKERS: must be a number of processes from 1 to ${MAX_WORKERS}, or auto (one per core), got "${value.trim()}"`,
      );
    },
  );
});
