/** A key's current window as a request sees it: how many requests it holds, and for how long still. */
export interface WindowState {
  /** Requests counted in the window, this one included when it was counted. */
  count: number;
  /** Milliseconds until the window ends and the count starts again from zero (0: no live window). */
  ttlMs: number;
}

/**
 * Fixed-window request counters by key. In memory every answer is synchronous; shared counters
 * (shared-windows.ts) answer with a promise while they ask Redis.
 */
export interface WindowCounters {
  /** Counts one request in `key`'s live window, opening a new window when none is live. */
  hit(key: string): WindowState | Promise<WindowState>;
  /** `key`'s live window without counting anything: `{ count: 0, ttlMs: 0 }` when none is live. */
  peek(key: string): WindowState | Promise<WindowState>;
}

interface Window {
  readonly key: string;
  count: number;
  /** Epoch ms. */
  readonly endsAt: number;
}

/** Past this many spent slots at its front, the queue is compacted (amortized O(1) per window). */
const COMPACT_AFTER = 1024;

/**
 * Fixed windows in this process, at most `capacity` of them. Counting is one `Map` lookup and an
 * increment, with nothing awaited: a burst of requests released in one tick is counted exactly
 * (40 against a budget of 30: 10 refused). Windows are queued in the order they started, which,
 * all being `windowMs` long, is the order they end: opening a window first forgets those that ended
 * (so memory follows the keys of the last window, not every key ever seen), then, when `capacity`
 * live windows remain, the oldest, whose key then starts again from a whole budget. More distinct
 * keys than `capacity` per window are needed for that, as with the least-recently-used counters
 * this replaces; nothing is allocated up front.
 */
export class WindowTable implements WindowCounters {
  private readonly live = new Map<string, Window>();
  private queue: (Window | undefined)[] = [];
  private head = 0;

  constructor(
    private readonly windowMs: number,
    private readonly capacity: number,
  ) {}

  /** Live windows held (ended ones not yet dropped included). */
  get size(): number {
    return this.live.size;
  }

  hit(key: string): WindowState {
    const now = Date.now();
    const window = this.live.get(key);
    if (window !== undefined && window.endsAt > now) {
      window.count++;
      return { count: window.count, ttlMs: window.endsAt - now };
    }
    this.open(key, now);
    return { count: 1, ttlMs: this.windowMs };
  }

  peek(key: string): WindowState {
    const now = Date.now();
    const window = this.live.get(key);
    if (window === undefined || window.endsAt <= now) return { count: 0, ttlMs: 0 };
    return { count: window.count, ttlMs: window.endsAt - now };
  }

  private open(key: string, now: number): void {
    this.dropEnded(now);
    // A key whose ended window is still held (the clock went back) just replaces it.
    while (this.live.size >= this.capacity && !this.live.has(key) && this.head < this.queue.length)
      this.shift();
    const window: Window = { key, count: 1, endsAt: now + this.windowMs };
    this.live.set(key, window);
    this.queue.push(window);
  }

  private dropEnded(now: number): void {
    while (this.head < this.queue.length && (this.queue[this.head]?.endsAt ?? 0) <= now) this.shift();
  }

  /** Drops the oldest queued window (and its key, unless the key has opened a newer one since). */
  private shift(): void {
    const first = this.queue[this.head];
    this.queue[this.head] = undefined;
    this.head++;
    if (first !== undefined && this.live.get(first.key) === first) this.live.delete(first.key);
    if (this.head >= COMPACT_AFTER && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}
