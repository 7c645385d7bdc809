import { describe, expect, it } from 'vitest';
import { addressKey } from './address-key.ts';

describe('addressKey: whose budget an address spends', () => {
  it('keeps an IPv4 address as it is', () => {
    expect(addressKey('203.0.113.7')).toBe('203.0.113.7');
  });

  it('reads an IPv4-mapped IPv6 address (what a dual-stack socket reports) as its IPv4 address', () => {
    expect(addressKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey('::FFFF:cb00:7107')).toBe('203.0.113.7');
  });

  it('counts an IPv6 address by its /64, in RFC 5952 form', () => {
    expect(addressKey('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::');
    expect(addressKey('2001:DB8:0001:0002:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::');
    expect(addressKey('2001:db8::1')).toBe('2001:db8::');
    expect(addressKey('2001:0:0:1::1')).toBe('2001:0:0:1::');
    expect(addressKey('::1')).toBe('::');
    expect(addressKey('fe80::1%eth0')).toBe('fe80::');
    expect(addressKey('64:ff9b::203.0.113.7')).toBe('64:ff9b::');
  });

  it('gives every address of one /64 the same key, and another /64 another', () => {
    const keys = ['2001:db8:a:b::1', '2001:db8:a:b:ffff::9', '2001:db8:a:b:1:2:3:4'].map(addressKey);
    expect(new Set(keys).size).toBe(1);
    expect(addressKey('2001:db8:a:c::1')).not.toBe(keys[0]);
  });
});
