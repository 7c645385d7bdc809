import { percentile } from '../stats.ts';
import { type Family, KINDS, type KindId, LATENCY_GROUPS, type Outcome, outcomeOf } from './kinds.ts';

/** Answers of one kind: how many of each status, and the time each took (ms, answered ones). */
export interface KindTally {
  statuses: Map<number, number>;
  latencies: number[];
}

/** One error seen: what went wrong, how often, and the first example (never a secret). */
export interface ErrorTally {
  kind: KindId;
  what: string;
  count: number;
  example: string;
}

/** Latency of a group of kinds over one interval, ms. */
export interface GroupLatency {
  requests: number;
  p50: number;
  p99: number;
}

/** The requests completed in one interval of the workload. */
export interface IntervalTally {
  index: number;
  requests: number;
  outcomes: Record<Outcome, number>;
  /** Every workload request (not the soak's own scrapes). */
  all: GroupLatency;
  groups: Record<string, GroupLatency>;
}

const emptyOutcomes = (): Record<Outcome, number> => ({ ok: 0, refused: 0, limited: 0, error: 0 });

/** Families whose requests are the workload (not the soak reading the server, nor its final checks). */
const WORKLOAD: readonly Family[] = ['api', 'token', 'sign-in', 'admin', 'refused'];

/**
 * Counts every answer the soak gets, by kind and status, for the whole run and per interval, and keeps
 * the errors. Requests are placed in the interval in which they completed; those completing after the
 * last interval (in flight at the end) count in the last one.
 */
export class Recorder {
  readonly totals = new Map<KindId, KindTally>();
  readonly errors = new Map<string, ErrorTally>();
  private readonly intervals: { kinds: Map<KindId, number[]>; outcomes: Record<Outcome, number> }[] = [];
  private startedAt = 0;

  constructor(
    private readonly intervalMs: number,
    private readonly intervalCount: number,
  ) {
    for (let i = 0; i < intervalCount; i++)
      this.intervals.push({ kinds: new Map(), outcomes: emptyOutcomes() });
  }

  /** Marks the start of the workload: intervals are counted from here. */
  start(now: number): void {
    this.startedAt = now;
  }

  /** Records one answer (status 0: none) and returns how it counts. */
  record(kind: KindId, status: number, ms: number, finishedAt: number, detail = ''): Outcome {
    const outcome = outcomeOf(kind, status);
    let tally = this.totals.get(kind);
    if (!tally) {
      tally = { statuses: new Map(), latencies: [] };
      this.totals.set(kind, tally);
    }
    tally.statuses.set(status, (tally.statuses.get(status) ?? 0) + 1);
    if (status > 0) tally.latencies.push(ms);
    if (outcome === 'error') this.flag(kind, status === 0 ? 'no answer' : `status ${status}`, detail);
    if (this.startedAt > 0 && WORKLOAD.includes(KINDS[kind].family)) {
      const index = Math.min(
        this.intervalCount - 1,
        Math.max(0, Math.floor((finishedAt - this.startedAt) / this.intervalMs)),
      );
      const interval = this.intervals[index];
      if (interval) {
        interval.outcomes[outcome]++;
        if (status > 0) {
          const list = interval.kinds.get(kind) ?? [];
          list.push(ms);
          interval.kinds.set(kind, list);
        }
      }
    }
    return outcome;
  }

  /** Records an error that is not a status: a wrong answer body, a check that failed. */
  flag(kind: KindId, what: string, example = ''): void {
    const key = `${kind} ${what}`;
    const found = this.errors.get(key);
    if (found) found.count++;
    else this.errors.set(key, { kind, what, count: 1, example: example.slice(0, 300) });
  }

  get errorCount(): number {
    let count = 0;
    for (const error of this.errors.values()) count += error.count;
    return count;
  }

  /** Answers by status summed over kinds, optionally of some families only. */
  statusTotals(families?: readonly Family[]): Map<number, number> {
    const sums = new Map<number, number>();
    for (const [kind, tally] of this.totals) {
      if (families && !families.includes(KINDS[kind].family)) continue;
      for (const [status, count] of tally.statuses) sums.set(status, (sums.get(status) ?? 0) + count);
    }
    return sums;
  }

  /** Each interval's counts and latencies. */
  intervalTallies(): IntervalTally[] {
    return this.intervals.map((interval, index) => {
      const latencyOf = (families: readonly Family[]): GroupLatency => {
        const times: number[] = [];
        for (const [kind, list] of interval.kinds)
          if (families.includes(KINDS[kind].family)) times.push(...list);
        return {
          requests: times.length,
          p50: times.length ? percentile(times, 50) : Number.NaN,
          p99: times.length ? percentile(times, 99) : Number.NaN,
        };
      };
      const groups: Record<string, GroupLatency> = {};
      for (const group of LATENCY_GROUPS) groups[group.id] = latencyOf(group.families);
      const outcomes = interval.outcomes;
      return {
        index,
        requests: outcomes.ok + outcomes.refused + outcomes.limited + outcomes.error,
        outcomes,
        all: latencyOf(WORKLOAD),
        groups,
      };
    });
  }
}
