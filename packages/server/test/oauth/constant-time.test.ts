import * as crypto from 'node:crypto';
import { crc32 } from 'node:zlib';
import { expect, it, vi } from 'vitest';
import { generatePrivateKey, isWellFormedPrivateKey } from '../../src/domain/key-format.ts';
import { hashSecret } from '../../src/domain/secrets.ts';
import { basicAuth, postForm } from '../helpers/http.ts';
import { useSeededApp } from '../helpers/seeded-app.ts';
import { tamperLast } from '../helpers/tamper.ts';
import { describeEachDialect } from '../helpers/test-app.ts';
import { form, OAUTH_ENV } from './oauth-helpers.ts';

// Wrapped, not replaced: the real comparison still runs, and the calls are observed.
vi.mock('node:crypto', async (importOriginal) => {
  const original = await importOriginal<typeof crypto>();
  return { ...original, timingSafeEqual: vi.fn(original.timingSafeEqual) };
});

/**
 * DESIGN.md 3 rule 2 without timing measurements: the client secret presented to the token endpoint
 * is only ever compared through `timingSafeEqual`, over fixed-length sha256 digests, so neither a
 * shared prefix nor the secret's length can shorten the comparison.
 */
describeEachDialect('client secrets are compared in constant time', (dialect) => {
  const ctx = useSeededApp(dialect, OAUTH_ENV);

  const compare = vi.mocked(crypto.timingSafeEqual);
  const attempt = (secret: string) =>
    postForm(ctx.app, '/connect/token', form({ grant_type: 'client_credentials' }), {
      authorization: basicAuth(ctx.seed.orgKeyA.key.publicKey, secret),
    });

  it('compares the digest of a wrong secret with timingSafeEqual, never the secret itself', async () => {
    const wrong = generatePrivateKey();
    compare.mockClear();
    const res = await attempt(wrong);
    expect(res.statusCode).toBe(401);
    expect(compare).toHaveBeenCalled();
    const presented = Buffer.from(hashSecret(wrong));
    for (const [a, b] of compare.mock.calls) {
      const left = Buffer.from(a as Uint8Array);
      const right = Buffer.from(b as Uint8Array);
      expect(left.length).toBe(right.length);
      expect([left.equals(presented), right.equals(presented)]).toContain(true);
      expect(left.toString()).not.toContain(wrong);
      expect(right.toString()).not.toContain(wrong);
    }
  });

  /** The real secret with its last body character changed and a valid checksum: it reaches the comparison. */
  function nearMiss(real: string): string {
    const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    const body = tamperLast(real.slice(0, -6));
    let sum = '';
    for (let v = crc32(body); v > 0; v = Math.floor(v / 62)) sum = BASE62[v % 62] + sum;
    return body + sum.padStart(6, '0');
  }

  it('answers a near miss (all but one character of the real secret) exactly like a far miss', async () => {
    const near = nearMiss(ctx.seed.orgKeyA.privateKey);
    expect(isWellFormedPrivateKey(near)).toBe(true);
    compare.mockClear();
    const nearRes = await attempt(near);
    expect(compare).toHaveBeenCalled();
    const farRes = await attempt(generatePrivateKey());
    expect(nearRes.statusCode).toBe(401);
    expect(nearRes.statusCode).toBe(farRes.statusCode);
    expect(nearRes.json()).toEqual(farRes.json());
  });
});
