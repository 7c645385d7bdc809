import { cpuMs, rssMb } from '../process.ts';
import type { Http } from './http.ts';

/** The server read at one moment: memory, and event-loop delay since the previous reading. */
export interface MemorySample {
  /** Seconds since the workload started. */
  t: number;
  /** Resident set size from /proc (the process and any workers), MB. */
  rssMb: number | null;
  /** V8 heap in use and allocated, and memory outside the heap, MB (the server's /metrics). */
  heapUsedMb: number | null;
  heapTotalMb: number | null;
  externalMb: number | null;
  /** Event-loop delay since the previous reading (prom-client resets its histogram at each scrape), ms. */
  loopP50Ms: number | null;
  loopP99Ms: number | null;
  loopMaxMs: number | null;
  /** CPU used since the previous reading, in cores: the server's and the soak's own (load generator). */
  serverCpu: number | null;
  benchCpu: number;
  /**
   * Entries of each in-memory cache (`gatehouse_cache_entries`): a cache filling to its bound, or the
   * denylist holding revoked tokens until they expire, grows memory for a while without leaking.
   */
  caches: Record<string, number>;
}

/** The value of a series (its first line when labelled), or null when absent. */
export function metricValue(text: string, name: string): number | null {
  const found = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+|NaN)$`, 'm').exec(text)?.[1];
  return found === undefined || found === 'NaN' ? null : Number(found);
}

/** The sum of a counter's series by the value of one label. */
export function sumByLabel(text: string, name: string, label: string): Map<string, number> {
  const sums = new Map<string, number>();
  const line = new RegExp(`^${name}\\{([^}]*)\\} ([0-9.e+-]+)$`, 'gm');
  for (const m of text.matchAll(line)) {
    const value = new RegExp(`(?:^|,)${label}="([^"]*)"`).exec(m[1] ?? '')?.[1] ?? '';
    sums.set(value, (sums.get(value) ?? 0) + Number(m[2]));
  }
  return sums;
}

const mb = (bytes: number | null) => (bytes === null ? null : bytes / 2 ** 20);
const ms = (seconds: number | null) => (seconds === null ? null : seconds * 1000);

/**
 * Reads the server every `sampleMs` until `stop()`: RSS from /proc, heap and event-loop delay from its
 * `/metrics` (each scrape is a request the soak counts, kind `metrics`), CPU of both processes.
 */
export class Sampler {
  readonly samples: MemorySample[] = [];
  private timer: NodeJS.Timeout | null = null;
  private lastCpu: { at: number; server: number | null; bench: NodeJS.CpuUsage } | null = null;
  private pending: Promise<void> | null = null;

  constructor(
    private readonly http: Http,
    private readonly pid: number,
    private readonly startedAt: number,
    private readonly metricsToken: string,
  ) {}

  /** The server's /metrics text ('' when it did not answer 200). */
  async scrape(): Promise<string> {
    const answer = await this.http.send('metrics', '/metrics', {
      paced: false,
      headers: { authorization: `Bearer ${this.metricsToken}` },
    });
    return answer.status === 200 ? answer.text : '';
  }

  /** One reading now; the metrics text too, for whoever wants more of it. */
  async read(): Promise<string> {
    const at = Date.now();
    const rss = rssMb(this.pid);
    const server = cpuMs(this.pid);
    const bench = process.cpuUsage();
    const text = await this.scrape();
    const last = this.lastCpu;
    const seconds = last ? (at - last.at) / 1000 : 0;
    const cores = (used: number | null) => (seconds > 0 && used !== null ? used / 1000 / seconds : null);
    const benchUsed = last ? process.cpuUsage(last.bench) : null;
    this.lastCpu = { at, server, bench };
    if (last) {
      this.samples.push({
        t: (at - this.startedAt) / 1000,
        rssMb: rss,
        heapUsedMb: mb(metricValue(text, 'nodejs_heap_size_used_bytes')),
        heapTotalMb: mb(metricValue(text, 'nodejs_heap_size_total_bytes')),
        externalMb: mb(metricValue(text, 'nodejs_external_memory_bytes')),
        loopP50Ms: ms(metricValue(text, 'nodejs_eventloop_lag_p50_seconds')),
        loopP99Ms: ms(metricValue(text, 'nodejs_eventloop_lag_p99_seconds')),
        loopMaxMs: ms(metricValue(text, 'nodejs_eventloop_lag_max_seconds')),
        serverCpu: cores(server !== null && last.server !== null ? server - last.server : null),
        benchCpu: cores(benchUsed ? (benchUsed.user + benchUsed.system) / 1000 : null) ?? 0,
        caches: Object.fromEntries(sumByLabel(text, 'gatehouse_cache_entries', 'cache')),
      });
    }
    return text;
  }

  /** Reads now (the baseline: resets the event-loop histogram and the CPU counters), then every `sampleMs`. */
  async start(sampleMs: number): Promise<string> {
    const text = await this.read();
    this.timer = setInterval(() => {
      // A reading still in flight (a slow scrape): skip this one rather than queue it, since two scrapes
      // back to back would leave the second an empty event-loop histogram.
      if (this.pending !== null) return;
      this.pending = this.read().then(
        () => {
          this.pending = null;
        },
        () => {
          this.pending = null;
        },
      );
    }, sampleMs);
    return text;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.pending;
  }
}
