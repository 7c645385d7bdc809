import { availableParallelism } from 'node:os';
import { ProblemError } from '../errors/errors.ts';

/**
 * How many password hashes run at once, and how many may wait. When scrypt ran on libuv's thread
 * pool (4 threads), where ES256 signing runs too, a burst of sign-ins that took every thread held token
 * issuance behind ~100 ms hashes (token p99 rose from 18 ms to 8.6 s). Hashes now run on their own
 * low-priority threads (scrypt-workers.ts), one per slot: half the cores, so the event loop always
 * has cores left. A sign-in beyond the queue is refused at once with 503 and Retry-After, not held.
 */
export interface SlotLimits {
  concurrency: number;
  /** Waiting checks beyond which new ones are refused (~2 s of queue at ~100 ms per hash). */
  queue: number;
}

export function defaultSlotLimits(): SlotLimits {
  const concurrency = Math.max(1, Math.floor(availableParallelism() / 2));
  return { concurrency, queue: 20 * concurrency };
}

/** Seconds a refused caller is told to wait. */
export const BUSY_RETRY_AFTER_SECONDS = 1;

/** A counting semaphore with a bounded queue, for the password hashes of this process. */
export class PasswordSlots {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly limits: SlotLimits = defaultSlotLimits()) {}

  /** Runs `work` when a slot is free; throws a 503 `busy` problem when the queue is full. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.limits.concurrency) {
      if (this.waiting.length >= this.limits.queue) {
        throw new ProblemError('busy', 'too many password checks in progress; retry shortly', {
          'retry-after': String(BUSY_RETRY_AFTER_SECONDS),
        });
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await work();
    } finally {
      // The slot passes straight to the next waiter, so `running` never drops below what is running.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }

  /** Checks running and waiting now (metrics, tests). */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }
}

/** The slots of this process: the thread pool they protect is per process too. */
export const passwordSlots = new PasswordSlots();
