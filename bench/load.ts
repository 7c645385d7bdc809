import { performance } from 'node:perf_hooks';
import autocannon, { type Request } from 'autocannon';
import { cpuMs, ownCpuMs } from './process.ts';
import { percentile } from './stats.ts';

/** One load run against one target: what the report needs from autocannon's result. */
export interface Sample {
  /** Successful (2xx) responses per second. */
  rps: number;
  /** Latency percentiles in milliseconds. */
  p50: number;
  p99: number;
  /** Connection errors and timeouts plus non-2xx answers: any is a failure of the run. */
  errors: number;
  requests: number;
  seconds: number;
  /**
   * CPU used during the run, in cores: the server's (its processes summed: near 1 per worker = saturated)
   * and the load generator's (the bench process).
   */
  serverCpu: number | null;
  /** The part of `serverCpu` used by its first process: with workers, the cluster primary. */
  serverPrimaryCpu?: number | null;
  clientCpu: number;
  /** Peak RSS of the server so far (VmHWM, MB), read right after the run. */
  serverPeakRssMb?: number | null;
  /** Lines the server logged during the run per request answered: the access log at work (or not). */
  logLinesPerRequest?: number | null;
}

/** What to send: a fixed request, or requests built per send (fresh token, next client...). */
export interface Target {
  /** Base URL, e.g. http://127.0.0.1:4000 */
  origin: string;
  method?: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** Builds each request; overrides the fixed fields. */
  next?: () => { path?: string; headers: Record<string, string>; body?: string };
  /** Stop after this many requests instead of after the duration (row 3: one fresh token each). */
  amount?: number;
  /** Receives each response body (token minting). */
  onBody?: (status: number, body: string) => void;
}

export interface LoadSettings {
  connections: number;
  pipelining: number;
  duration: number;
  /** The server's process id, to report how busy it and its workers were (Linux /proc). */
  serverPid?: number;
}

function requestsOf(target: Target): Request[] {
  const base: Request = {
    method: target.method ?? 'GET',
    path: target.path,
    ...(target.headers ? { headers: target.headers } : {}),
    ...(target.body !== undefined ? { body: target.body } : {}),
    ...(target.onBody ? { onResponse: target.onBody } : {}),
  };
  const next = target.next;
  if (!next) return [base];
  return [
    {
      ...base,
      setupRequest: (request) => {
        const built = next();
        return {
          ...request,
          headers: built.headers,
          ...(built.path ? { path: built.path } : {}),
          ...(built.body !== undefined ? { body: built.body } : {}),
        };
      },
    },
  ];
}

/** Runs autocannon once; bounded by `duration` (or by `amount`) and a 10 s per-request timeout. */
export function runLoad(target: Target, settings: LoadSettings): Promise<Sample> {
  // autocannon's histogram has 1 ms resolution; the loopback latencies here are often below that,
  // so the percentiles come from the exact response times of the 2xx answers.
  const times: number[] = [];
  const pid = settings.serverPid;
  const serverStart = pid ? cpuMs(pid) : null;
  const primaryStart = pid ? ownCpuMs(pid) : null;
  const clientStart = process.cpuUsage();
  const wallStart = performance.now();
  let lastResponse = wallStart;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: target.origin,
        // autocannon shares `amount` between connections; never more connections than requests.
        connections: target.amount ? Math.min(settings.connections, target.amount) : settings.connections,
        pipelining: settings.pipelining,
        timeout: 10,
        requests: requestsOf(target),
        ...(target.amount ? { amount: target.amount } : { duration: settings.duration }),
      },
      (error, result) => {
        if (error) return reject(error);
        const ok = result['2xx'];
        // autocannon only notices the end at its 1 s ticks, so its `duration` overstates an `amount` run;
        // throughput is measured to the last response instead.
        // A run without a single answer (a server stalled for the whole round) is timed to its end.
        const active = ((lastResponse > wallStart ? lastResponse : performance.now()) - wallStart) / 1000;
        const serverEnd = pid ? cpuMs(pid) : null;
        const primaryEnd = pid ? ownCpuMs(pid) : null;
        const cores = (start: number | null, end: number | null) =>
          start !== null && end !== null ? (end - start) / (active * 1000) : null;
        const client = process.cpuUsage(clientStart);
        resolve({
          rps: active > 0 ? ok / active : 0,
          p50: times.length ? percentile(times, 50) : result.latency.p50,
          p99: times.length ? percentile(times, 99) : result.latency.p99,
          // autocannon's `errors` already counts timeouts.
          errors: result.errors + result.non2xx,
          requests: result.requests.total,
          seconds: active,
          serverCpu: cores(serverStart, serverEnd),
          serverPrimaryCpu: cores(primaryStart, primaryEnd),
          clientCpu: (client.user + client.system) / 1000 / (active * 1000),
        });
      },
    );
    instance.on('response', (_client, status, _bytes, responseTime) => {
      lastResponse = performance.now();
      if (status >= 200 && status < 300) times.push(responseTime);
    });
  });
}
