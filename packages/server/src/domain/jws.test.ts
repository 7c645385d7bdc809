import { constants, generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';
import { compactVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  ALGORITHMS,
  isSigningAlgorithm,
  type ParsedJws,
  parseCompact,
  SIGNING_ALGORITHMS,
  signCompact,
  verifySignature,
  verifySignatureOffLoop,
} from './jws.ts';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });

const HEADER = { alg: 'ES256', typ: 'at+jwt', kid: 'key-1' } as const;
const PAYLOAD = { iss: 'https://issuer.example', sub: 'user-1', scope: 'api1', exp: 2_000_000_000 };

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function parsed(token: string): ParsedJws {
  const jws = parseCompact(token);
  if (!jws) throw new Error(`did not parse: ${token}`);
  return jws;
}

/** Whether `token` parses and its signature verifies under `key`. */
function valid(token: string, key: KeyObject = publicKey): boolean {
  const jws = parseCompact(token);
  return jws !== null && verifySignature(jws, 'ES256', key);
}

describe('compact JWS sign, parse and verify', () => {
  it('round-trips: what signCompact signs parses back to the same header and payload and verifies', async () => {
    const token = await signCompact(HEADER, PAYLOAD, privateKey);
    const jws = parsed(token);
    expect(jws.header).toEqual(HEADER);
    expect(jws.payload).toEqual(PAYLOAD);
    expect(jws.signingInput).toBe(token.split('.').slice(0, 2).join('.'));
    expect(verifySignature(jws, 'ES256', publicKey)).toBe(true);
  });

  it('signs ES256 as R || S, 64 bytes (RFC 7518 3.4), not DER', async () => {
    const token = await signCompact(HEADER, PAYLOAD, privateKey);
    expect(parsed(token).signature).toHaveLength(ALGORITHMS.ES256.signatureLength);
    expect(ALGORITHMS.ES256.signatureLength).toBe(64);
  });

  it("refuses a token under another key's signature", async () => {
    const token = await signCompact(HEADER, PAYLOAD, privateKey);
    expect(valid(token, other.publicKey)).toBe(false);
  });

  it('refuses a tampered header', async () => {
    const [, payload, signature] = (await signCompact(HEADER, PAYLOAD, privateKey)).split('.');
    expect(valid(`${b64({ ...HEADER, kid: 'key-2' })}.${payload}.${signature}`)).toBe(false);
  });

  it('refuses a tampered payload', async () => {
    const [header, , signature] = (await signCompact(HEADER, PAYLOAD, privateKey)).split('.');
    expect(valid(`${header}.${b64({ ...PAYLOAD, scope: 'api1 admin' })}.${signature}`)).toBe(false);
  });

  it('refuses a signature with one bit flipped', async () => {
    const token = await signCompact(HEADER, PAYLOAD, privateKey);
    const jws = parsed(token);
    for (const index of [0, 31, 32, 63]) {
      const signature = Buffer.from(jws.signature);
      signature[index] = (signature[index] ?? 0) ^ 1;
      expect(verifySignature({ ...jws, signature }, 'ES256', publicKey), `byte ${index}`).toBe(false);
    }
  });

  it('refuses a signature of the wrong length: one byte short, one byte long, or DER-encoded', async () => {
    const token = await signCompact(HEADER, PAYLOAD, privateKey);
    const jws = parsed(token);
    const der = sign('sha256', Buffer.from(jws.signingInput, 'ascii'), privateKey);
    expect(der.length).not.toBe(64);
    // The DER signature is genuine: only its encoding is wrong.
    expect(
      verifySignature({ ...jws, signature: der }, 'ES256', publicKey),
      'DER-encoded signature accepted',
    ).toBe(false);
    expect(verifySignature({ ...jws, signature: jws.signature.subarray(0, 63) }, 'ES256', publicKey)).toBe(
      false,
    );
    expect(
      verifySignature(
        { ...jws, signature: Buffer.concat([jws.signature, Buffer.of(0)]) },
        'ES256',
        publicKey,
      ),
    ).toBe(false);
  });

  it('answers false, never throws, for a key OpenSSL cannot use with ES256', async () => {
    const token = await signCompact(HEADER, PAYLOAD, privateKey);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    expect(verifySignature(parsed(token), 'ES256', rsa)).toBe(false);
  });
});

describe('RS256 (RSASSA-PKCS1-v1_5 with SHA-256, RFC 7518 3.3)', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const otherRsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const RS_HEADER = { alg: 'RS256', typ: 'JWT', kid: 'rsa-1' } as const;

  it('round-trips and signs 256 bytes with a 2048-bit key', async () => {
    const token = await signCompact(RS_HEADER, PAYLOAD, rsa.privateKey);
    const jws = parsed(token);
    expect(jws.header).toEqual(RS_HEADER);
    expect(jws.signature).toHaveLength(ALGORITHMS.RS256.signatureLength);
    expect(ALGORITHMS.RS256.signatureLength).toBe(256);
    expect(verifySignature(jws, 'RS256', rsa.publicKey)).toBe(true);
  });

  it('is what jose verifies as RS256, and uses PKCS #1 v1.5 padding, not PSS', async () => {
    const token = await signCompact(RS_HEADER, PAYLOAD, rsa.privateKey);
    const { protectedHeader } = await compactVerify(token, rsa.publicKey, { algorithms: ['RS256'] });
    expect(protectedHeader.alg).toBe('RS256');
    const jws = parsed(token);
    const input = Buffer.from(jws.signingInput, 'ascii');
    const pkcs1 = { key: rsa.publicKey, padding: constants.RSA_PKCS1_PADDING };
    expect(verify('sha256', input, pkcs1, jws.signature)).toBe(true);
    // A genuine PSS signature of the same input (PS256's) is no RS256 signature.
    const pss = sign('sha256', input, { key: rsa.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING });
    expect(verifySignature({ ...jws, signature: pss }, 'RS256', rsa.publicKey)).toBe(false);
  });

  it("refuses another key's signature, a tampered payload and a flipped bit", async () => {
    const token = await signCompact(RS_HEADER, PAYLOAD, rsa.privateKey);
    const jws = parsed(token);
    expect(verifySignature(jws, 'RS256', otherRsa.publicKey)).toBe(false);
    const [header, , signature] = token.split('.');
    const tampered = parsed(`${header}.${b64({ ...PAYLOAD, sub: 'user-2' })}.${signature}`);
    expect(verifySignature(tampered, 'RS256', rsa.publicKey)).toBe(false);
    const flipped = Buffer.from(jws.signature);
    flipped[100] = (flipped[100] ?? 0) ^ 1;
    expect(verifySignature({ ...jws, signature: flipped }, 'RS256', rsa.publicKey)).toBe(false);
    expect(verifySignature({ ...jws, signature: jws.signature.subarray(1) }, 'RS256', rsa.publicKey)).toBe(
      false,
    );
  });

  it('refuses a key of the other type whatever the signature: no ES256 key verifies RS256, nor the reverse', async () => {
    const rsToken = parsed(await signCompact(RS_HEADER, PAYLOAD, rsa.privateKey));
    expect(verifySignature(rsToken, 'RS256', publicKey)).toBe(false);
    const esToken = parsed(await signCompact(HEADER, PAYLOAD, privateKey));
    expect(verifySignature(esToken, 'ES256', rsa.publicKey)).toBe(false);
    // An ES256 signature checked as RS256 (or the reverse) fails on its length before any key is used.
    expect(verifySignature(esToken, 'RS256', rsa.publicKey)).toBe(false);
    expect(verifySignature(rsToken, 'ES256', publicKey)).toBe(false);
  });
});

describe('parseCompact', () => {
  const h = b64(HEADER);
  const p = b64(PAYLOAD);
  const s = Buffer.alloc(64, 7).toString('base64url');

  it('splits three base64url parts with JSON objects in the first two', () => {
    expect(parseCompact(`${h}.${p}.${s}`)).toMatchObject({ header: HEADER, payload: PAYLOAD });
  });

  it.each([
    ['two parts', `${h}.${p}`],
    ['four parts (a JWE has five)', `${h}.${p}.${s}.${s}`],
    ['an empty signature: an unsecured JWS of alg none', `${b64({ alg: 'none' })}.${p}.`],
    ['an empty header', `.${p}.${s}`],
    ['base64 padding', `${h}.${p}.${s}==`],
    ['the base64 alphabet (+)', `${h}.${p}.${s.slice(0, -1)}+`],
    ['the base64 alphabet (/)', `${h.slice(0, -1)}/.${p}.${s}`],
    ['whitespace', `${h}.${p} .${s}`],
  ])('refuses %s', (_case, token) => {
    expect(parseCompact(token)).toBeNull();
  });

  it.each([
    ['not JSON', Buffer.from('{"alg":').toString('base64url')],
    ['a JSON array', b64(['ES256'])],
    ['a JSON string', b64('ES256')],
    ['a JSON number', b64(256)],
    ['JSON null', b64(null)],
  ])('refuses a header that is %s', (_case, header) => {
    expect(parseCompact(`${header}.${p}.${s}`)).toBeNull();
  });

  it.each([
    ['not JSON', Buffer.from('not json').toString('base64url')],
    ['a JSON array', b64([PAYLOAD])],
    ['JSON true', b64(true)],
  ])('refuses a payload that is %s', (_case, payload) => {
    expect(parseCompact(`${h}.${payload}.${s}`)).toBeNull();
  });
});

describe('the algorithm allow-list (RFC 8725 3.1)', () => {
  it('accepts ES256 and RS256, the algorithms we sign with, and lists exactly those', () => {
    expect(isSigningAlgorithm('ES256')).toBe(true);
    expect(isSigningAlgorithm('RS256')).toBe(true);
    expect(SIGNING_ALGORITHMS).toEqual(['ES256', 'RS256']);
  });

  it.each(['none', 'None', 'HS256', 'HS384', 'HS512', 'es256', 'rs256', 'ES384', 'RS512', 'PS256', ''])(
    'refuses %j',
    (alg) => {
      expect(isSigningAlgorithm(alg)).toBe(false);
    },
  );

  it('refuses names inherited from Object.prototype and values that are not strings', () => {
    for (const alg of ['__proto__', 'constructor', 'toString', 'hasOwnProperty'])
      expect(isSigningAlgorithm(alg), alg).toBe(false);
    for (const alg of [null, undefined, 256, ['ES256'], { ES256: true }])
      expect(isSigningAlgorithm(alg), String(alg)).toBe(false);
  });

  it('holds neither none nor any HMAC algorithm', () => {
    expect(Object.keys(ALGORITHMS).filter((alg) => /^(none|HS\d+)$/i.test(alg))).toEqual([]);
  });
});

describe('verification on the thread pool (verifySignatureOffLoop) answers as verifySignature does', () => {
  it('accepts a valid ES256 token and refuses a flipped bit, a wrong length, another key and a key of another type', async () => {
    const jws = parsed(await signCompact(HEADER, PAYLOAD, privateKey));
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    const flipped = Buffer.from(jws.signature);
    flipped[10] = (flipped[10] ?? 0) ^ 1;
    const cases: [string, boolean, boolean][] = [
      ['valid', await verifySignatureOffLoop(jws, 'ES256', publicKey), true],
      [
        'flipped bit',
        await verifySignatureOffLoop({ ...jws, signature: flipped }, 'ES256', publicKey),
        false,
      ],
      [
        'one byte short',
        await verifySignatureOffLoop(
          { ...jws, signature: jws.signature.subarray(0, 63) },
          'ES256',
          publicKey,
        ),
        false,
      ],
      ['another key', await verifySignatureOffLoop(jws, 'ES256', other), false],
      ['an RSA key', await verifySignatureOffLoop(jws, 'ES256', rsa), false],
    ];
    for (const [name, got, expected] of cases) expect(got, name).toBe(expected);
  });

  it('answers false, never rejects, for a zero signature of the right length (OpenSSL refuses r = s = 0)', async () => {
    const jws = parsed(await signCompact(HEADER, PAYLOAD, privateKey));
    await expect(
      verifySignatureOffLoop({ ...jws, signature: Buffer.alloc(64) }, 'ES256', publicKey),
    ).resolves.toBe(false);
  });
});
