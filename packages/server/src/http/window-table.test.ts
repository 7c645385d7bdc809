import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WindowTable } from './window-table.ts';

const MINUTE = 60_000;

describe('WindowTable: fixed windows in memory', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-01-01T00:00:00Z'));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('counts every request of a key in its window, synchronously, with the time left', () => {
    const table = new WindowTable(MINUTE, 10);
    expect(table.hit('a')).toEqual({ count: 1, ttlMs: MINUTE });
    vi.advanceTimersByTime(15_000);
    expect(table.hit('a')).toEqual({ count: 2, ttlMs: 45_000 });
    expect(table.hit('b')).toEqual({ count: 1, ttlMs: MINUTE });
  });

  it('counts a burst exactly: 40 requests in one tick against a budget of 30 leave 10 over it', () => {
    const table = new WindowTable(MINUTE, 10);
    const counts = Array.from({ length: 40 }, () => table.hit('burst').count);
    expect(counts.filter((count) => count > 30)).toHaveLength(10);
  });

  it('starts a key again from zero once its window has ended', () => {
    const table = new WindowTable(MINUTE, 10);
    for (let i = 0; i < 5; i++) table.hit('a');
    vi.advanceTimersByTime(MINUTE - 1);
    expect(table.hit('a').count).toBe(6);
    vi.advanceTimersByTime(1);
    expect(table.hit('a')).toEqual({ count: 1, ttlMs: MINUTE });
  });

  it('peeks without counting, and reports no window for a key it does not hold', () => {
    const table = new WindowTable(MINUTE, 10);
    expect(table.peek('a')).toEqual({ count: 0, ttlMs: 0 });
    table.hit('a');
    vi.advanceTimersByTime(10_000);
    expect(table.peek('a')).toEqual({ count: 1, ttlMs: 50_000 });
    expect(table.peek('a')).toEqual({ count: 1, ttlMs: 50_000 });
    vi.advanceTimersByTime(50_000);
    expect(table.peek('a')).toEqual({ count: 0, ttlMs: 0 });
  });

  it('holds at most its capacity, forgetting the oldest window first', () => {
    const table = new WindowTable(MINUTE, 3);
    for (const key of ['a', 'b', 'c']) {
      table.hit(key);
      vi.advanceTimersByTime(1_000);
    }
    table.hit('a');
    table.hit('d');
    expect(table.size).toBe(3);
    // `a` opened the oldest window: it was forgotten and starts whole again; `b` and `c` kept counting.
    expect(table.peek('a').count).toBe(0);
    expect(table.hit('b').count).toBe(2);
    expect(table.hit('c').count).toBe(2);
    expect(table.size).toBe(3);
  });

  it('stays within its capacity whatever the number of keys made up', () => {
    const table = new WindowTable(MINUTE, 1_000);
    for (let i = 0; i < 50_000; i++) table.hit(`made-up-${i}`);
    expect(table.size).toBe(1_000);
    // The most recent keys are the ones still counted.
    expect(table.peek('made-up-49999').count).toBe(1);
    expect(table.peek('made-up-0').count).toBe(0);
  });

  it('forgets ended windows as new ones open: memory follows the keys of the last minute', () => {
    const table = new WindowTable(MINUTE, 1_000);
    for (let i = 0; i < 500; i++) table.hit(`early-${i}`);
    vi.advanceTimersByTime(MINUTE);
    table.hit('later');
    expect(table.size).toBe(1);
  });

  it('keeps counting correctly when the clock goes back', () => {
    const table = new WindowTable(MINUTE, 2);
    table.hit('a');
    vi.setSystemTime(Date.now() - 30 * MINUTE);
    // The window of `a` now ends more than a minute from now: it still counts.
    expect(table.hit('a').count).toBe(2);
    // `b` opens a window that ends before the one of `a`, behind it in the queue.
    table.hit('b');
    vi.advanceTimersByTime(2 * MINUTE);
    expect(table.hit('b')).toEqual({ count: 1, ttlMs: MINUTE });
    expect(table.size).toBe(2);
    table.hit('c');
    expect(table.size).toBe(2);
    expect(table.peek('a').count).toBe(0);
    expect(table.peek('b').count).toBe(1);
  });
});
