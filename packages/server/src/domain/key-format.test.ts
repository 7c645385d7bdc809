import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generatePrivateKey, generatePublicKey, isPublicKey, isWellFormedPrivateKey } from './key-format.ts';

describe('key format', () => {
  it('generates public keys of gpk_ and 24 base62 characters', () => {
    expect(generatePublicKey()).toMatch(/^gpk_[0-9A-Za-z]{24}$/);
    expect(isPublicKey(generatePublicKey())).toBe(true);
  });

  it('generates private keys of gsk_, 43 base62 characters and a valid checksum', () => {
    const key = generatePrivateKey();
    expect(key).toMatch(/^gsk_[0-9A-Za-z]{49}$/);
    expect(isWellFormedPrivateKey(key)).toBe(true);
  });

  it('rejects any single-character change of a private key by its checksum', () => {
    const key = generatePrivateKey();
    fc.assert(
      fc.property(fc.integer({ min: 4, max: key.length - 1 }), fc.constantFrom(...'0aZ9x'), (i, c) => {
        fc.pre(key[i] !== c);
        expect(isWellFormedPrivateKey(key.slice(0, i) + c + key.slice(i + 1))).toBe(false);
      }),
    );
  });

  it('rejects strings of the wrong shape', () => {
    for (const bad of [
      '',
      'gsk_',
      `gpk_${'a'.repeat(49)}`,
      `gsk_${'a'.repeat(48)}`,
      `gsk_${'é'.repeat(49)}`,
    ]) {
      expect(isWellFormedPrivateKey(bad)).toBe(false);
    }
  });
});
