import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KindId } from './kinds.ts';
import type { Recorder } from './recorder.ts';

/** An answer, read whole. Status 0: none (connection error or timeout); `text` then says why. */
export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  ms: number;
  /** Whether the answer counts as expected for its kind (see kinds.ts). */
  expected: boolean;
}

export interface SendOptions {
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  headers?: Record<string, string>;
  /** A JSON body (sets the content type). */
  json?: unknown;
  /** A form body (application/x-www-form-urlencoded). */
  form?: Record<string, string>;
  /** False for the soak's own reads of the server, which must not wait behind the workload. */
  paced?: boolean;
}

/** A person or client gives up after this long; a stuck server cannot hold the soak. */
const TIMEOUT_MS = 10_000;

/**
 * Spaces requests at most `rate` per second over every lane together. A lane that finds the schedule
 * behind (the server is slower than the rate) goes at once, and no burst credit piles up meanwhile:
 * the load is bounded by the lanes' concurrency, never by a queue that fills while the server is slow.
 */
export class Pacer {
  private next = 0;
  private readonly gapMs: number;

  constructor(rate: number) {
    this.gapMs = 1000 / rate;
  }

  async take(): Promise<void> {
    const now = performance.now();
    const at = Math.max(now, this.next);
    this.next = at + this.gapMs;
    if (at - now >= 1) await sleep(at - now);
  }
}

/**
 * A small budget for the requests that are meant to fail authentication. The server counts failed
 * credentials per client address (GATEHOUSE_AUTH_FAILURE_LIMIT, 60 a minute by default) and, once that
 * budget is spent, also refuses the database lookup of a valid key it has not cached yet: the soak
 * spends less than that, so that its 401s never turn its valid new keys into 429s.
 */
export class RefusalBudget {
  private tokens: number;
  private last = performance.now();
  skipped = 0;

  constructor(
    private readonly perMinute: number,
    private readonly burst = 3,
  ) {
    this.tokens = burst;
  }

  /** Takes one unit if there is one; otherwise the caller skips its probe (counted). */
  tryTake(): boolean {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 60_000) * this.perMinute);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens--;
      return true;
    }
    this.skipped++;
    return false;
  }
}

/** Sends requests to one server and records each answer by kind. */
export class Http {
  constructor(
    readonly origin: string,
    private readonly recorder: Recorder,
    private readonly pacer: Pacer,
  ) {}

  async send(kind: KindId, path: string, options: SendOptions = {}): Promise<Answer> {
    if (options.paced !== false) await this.pacer.take();
    const headers: Record<string, string> = { ...options.headers };
    let body: string | undefined;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(options.form).toString();
    }
    const started = performance.now();
    let status = 0;
    let text = '';
    let responseHeaders = new Headers();
    try {
      const response = await fetch(`${this.origin}${path}`, {
        method: options.method ?? (body === undefined ? 'GET' : 'POST'),
        headers,
        ...(body === undefined ? {} : { body }),
        redirect: 'manual',
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      text = await response.text();
      status = response.status;
      responseHeaders = response.headers;
    } catch (error) {
      text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
    const finished = performance.now();
    const ms = finished - started;
    const detail = status === 0 ? text : `${status} ${text.slice(0, 200)}`;
    const outcome = this.recorder.record(kind, status, ms, finished, detail);
    return {
      status,
      headers: responseHeaders,
      text,
      ms,
      expected: outcome === 'ok' || outcome === 'refused',
    };
  }

  /** Parses a JSON answer; null (and an error recorded) when it is not JSON. */
  json<T>(kind: KindId, answer: Answer): T | null {
    try {
      return JSON.parse(answer.text) as T;
    } catch {
      this.recorder.flag(kind, 'answer is not JSON', answer.text.slice(0, 200));
      return null;
    }
  }

  /** Records a wrong answer: the status was right but the body says something else. */
  wrong(kind: KindId, what: string, example = ''): void {
    this.recorder.flag(kind, what, example);
  }
}
