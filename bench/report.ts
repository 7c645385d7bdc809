import type { Sample } from './load.ts';
import type { ServerMemory } from './memory.ts';
import type { Row7Result } from './row7.ts';
import { LABELS, type MeasurementId, WORKERS } from './scenarios.ts';
import { type Figure, median, pairedRatio, roundRatios, summarize } from './stats.ts';
import { answeredP99, type StormResult, stormP99Ratio } from './storm.ts';

/** One line of the report table. */
export interface RowResult {
  row: number;
  measurement: string;
  figure: Omit<Figure, 'rounds'> | null;
  baseline: { name: string; figure: Omit<Figure, 'rounds'> | null };
  /** Throughput ratio measurement / baseline (median of paired rounds), p99 ratio (row 10), or a value (rows 7, 8). */
  ratio: number | null;
  value: string;
  target: string;
  /** true / false against the target; null when the row only reports. */
  pass: boolean | null;
  note?: string;
}

export type Samples = Partial<Record<MeasurementId, Sample[]>>;

const strip = (figure: Figure): Omit<Figure, 'rounds'> => ({
  rps: figure.rps,
  p50: figure.p50,
  p99: figure.p99,
  errors: figure.errors,
});

/** Rounds whose ratio is below this share of the median ratio make a row bimodal (row 5). */
const SLOW_ROUND = 0.8;

function notRun(
  row: number,
  measurement: string,
  baselineName: string,
  target: string,
  note: string,
): RowResult {
  return {
    row,
    measurement,
    figure: null,
    baseline: { name: baselineName, figure: null },
    ratio: null,
    value: 'not run',
    target,
    pass: null,
    note,
  };
}

function compare(
  row: number,
  a: MeasurementId,
  b: MeasurementId,
  baselineName: string,
  samples: Samples,
  target: number | null,
  skipped: string | null,
): RowResult {
  const sa = samples[a];
  const sb = samples[b];
  const targetText = target === null ? 'report' : `>= ${target}x`;
  if (!sa?.length || !sb?.length)
    return notRun(row, LABELS[a], baselineName, targetText, skipped ?? 'not selected');
  const ratio = pairedRatio(sa, sb);
  return {
    row,
    measurement: LABELS[a],
    target: targetText,
    figure: strip(summarize(sa)),
    baseline: { name: baselineName, figure: strip(summarize(sb)) },
    ratio,
    value: `${ratio.toFixed(2)}x`,
    pass: target === null ? null : ratio >= target,
  };
}

export interface ReportInput {
  samples: Samples;
  peerVersion: string | null;
  clients: number;
  /** Why rows needing the token endpoint or the peer could not run. */
  tokenSkip: string | null;
  peerSkip: string | null;
  peakRssMb: number | null;
  /** RSS of the server right after it started, before any load. */
  idleRssMb: number | null;
  /** The server's heap after rows 1-5 (from its `/metrics`), or why it could not be read. */
  steadyMemory: ServerMemory | string | null;
  row7: Row7Result | null;
  row7Skip: string | null;
  /** Why row 9's warn-level server, or row 11's workers server, did not run. */
  warnSkip: string | null;
  workersSkip: string | null;
  /** Cores of the machine, for row 11's CPU shares. */
  cores: number;
  /** Processes of row 11's server (1 + its workers), counted while it ran. */
  workersProcesses: number | null;
  storm: StormResult | null;
  stormSkip: string | null;
}

const mb = (v: number) => `${v.toFixed(0)} MB`;
const cores = (rounds: Sample[] | undefined, pick: (s: Sample) => number | null) =>
  median((rounds ?? []).map(pick).filter((v): v is number => v !== null));

/** Row 5's extra condition: no round far slower than the others (the rounds of earlier runs were bimodal). */
function checkRounds(row: RowResult, samples: Samples): void {
  const many = samples.tokenMany;
  const one = samples.token1;
  if (!row.figure || !many || !one) return;
  const ratios = roundRatios(many, one);
  const mid = median(ratios);
  const slow = ratios.flatMap((r, i) => (r < SLOW_ROUND * mid ? [i + 1] : []));
  const spread = (values: number[]) => (Math.max(...values) / Math.min(...values)).toFixed(2);
  row.target = `>= 0.9x, no round < ${SLOW_ROUND}x the median`;
  row.pass = (row.pass ?? false) && slow.length === 0;
  row.note =
    `req/s max/min over the rounds ${spread(many.map((r) => r.rps))} (row 4: ${spread(one.map((r) => r.rps))}); ` +
    `per-round ratios ${ratios.map((r) => r.toFixed(2)).join(', ')} (max/min ${spread(ratios)}): ` +
    (slow.length
      ? `round${slow.length > 1 ? 's' : ''} ${slow.join(', ')} below ${SLOW_ROUND}x the median, bimodal`
      : `no round below ${SLOW_ROUND}x the median`);
}

function memoryNote(input: ReportInput): string | undefined {
  const parts: string[] = [];
  if (input.idleRssMb !== null) parts.push(`RSS right after start, before any load: ${mb(input.idleRssMb)}`);
  const m = input.steadyMemory;
  if (typeof m === 'string') parts.push(`heap not read: ${m}`);
  else if (m)
    parts.push(
      `at steady state after rows 1-5 (its /metrics): JS heap ${mb(m.heapUsedMb)} used of ${mb(m.heapTotalMb)} ` +
        `allocated, external ${mb(m.externalMb)}, RSS ${mb(m.rssMb)}`,
    );
  return parts.length ? parts.join('; ') : undefined;
}

const times = (ratio: number) => (Number.isFinite(ratio) ? ratio.toFixed(2) : 'none');

function stormRow(input: ReportInput): RowResult {
  const name = `POST /connect/token p99 during ${LABELS.tokenStorm.split(', ').at(-1)}`;
  const baseline = 'the same, calm (rounds alternate)';
  const target = '<= 3x calm p99';
  const s = input.storm;
  if (!s?.calm.length) return notRun(10, name, baseline, target, input.stormSkip ?? 'not selected');
  const figure = (rounds: Sample[]): Omit<Figure, 'rounds'> => ({
    ...strip(summarize(rounds)),
    p99: median(rounds.map(answeredP99)),
  });
  const ratio = stormP99Ratio(s);
  const answers: Record<string, number> = {};
  for (const round of s.signIns)
    for (const [status, count] of Object.entries(round)) answers[status] = (answers[status] ?? 0) + count;
  return {
    row: 10,
    measurement: name,
    figure: figure(s.storm),
    baseline: { name: baseline, figure: figure(s.calm) },
    ratio,
    value: Number.isFinite(ratio) ? `${ratio.toFixed(2)}x p99` : 'no answer in most storm rounds',
    target,
    pass: ratio <= 3,
    note:
      `per-round storm/calm p99 ${s.calm.map((c, i) => times(answeredP99(s.storm[i] as Sample) / c.p99)).join(', ')} ` +
      `(a storm p99 counts the requests answered within the ${s.duration} s round; none: no answer in it); ` +
      `sign-in answers by status over all storms: ${JSON.stringify(answers)} (0 = no answer)`,
  };
}

function workersNote(input: ReportInput): string | undefined {
  const { samples } = input;
  if (!samples.meApiKeyWorkers?.length || !samples.meApiKeyOne?.length) return undefined;
  const used = (id: 'meApiKeyWorkers' | 'meApiKeyOne') =>
    `server ${cores(samples[id], (s) => s.serverCpu).toFixed(2)} cores ` +
    `(first process ${cores(samples[id], (s) => s.serverPrimaryCpu ?? null).toFixed(2)}), ` +
    `load generator ${cores(samples[id], (s) => s.clientCpu).toFixed(2)}`;
  const processes = input.workersProcesses;
  const effect =
    processes !== null && processes <= 1
      ? `; GATEHOUSE_WORKERS=${WORKERS} had no effect: the server ran as one process`
      : processes !== null
        ? `; the server ran as ${processes} processes`
        : '';
  return (
    `CPU in cores of the machine's ${input.cores} (medians): ${WORKERS} workers ${used('meApiKeyWorkers')}; ` +
    `1 worker ${used('meApiKeyOne')}${effect}`
  );
}

function logNote(input: ReportInput): string | undefined {
  const { samples } = input;
  const lines = (id: 'meApiKey' | 'meApiKeyWarn') =>
    cores(samples[id], (s) => s.logLinesPerRequest ?? null).toFixed(2);
  if (!samples.meApiKey?.length || !samples.meApiKeyWarn?.length) return undefined;
  const memory = input.steadyMemory;
  const dropped =
    typeof memory === 'object' && memory?.droppedLogLines != null
      ? `; lines the server dropped by the end of rows 1-5 (gatehouse_log_lines_dropped_total): ${memory.droppedLogLines}`
      : '';
  return `log lines written per request: ${lines('meApiKey')} at the default level, ${lines('meApiKeyWarn')} at warn${dropped}`;
}

/** Rows 1 to 11 with their baselines, ratios and targets. */
export function buildRows(input: ReportInput): RowResult[] {
  const { samples } = input;
  const peer = `oidc-provider ${input.peerVersion ?? ''}`.trim();
  const clients = input.clients.toLocaleString('en');
  const rows = [
    compare(1, 'meApiKey', 'healthz', LABELS.healthz, samples, 0.85, null),
    compare(2, 'meBearer', 'meApiKey', 'row 1', samples, 0.95, input.tokenSkip),
    compare(3, 'meBearerCold', 'meApiKey', 'row 1', samples, 0.3, input.tokenSkip),
    compare(4, 'token1', 'peer1', `${peer}, 1 client`, samples, 2.5, input.tokenSkip ?? input.peerSkip),
    compare(5, 'tokenMany', 'token1', 'row 4', samples, 0.9, input.tokenSkip),
    compare(6, 'workspaces', 'meApiKeyAgain', 'row 1 (re-measured beside row 6)', samples, 0.4, null),
  ];
  const [, , , row4, row5] = rows;
  if (row4?.figure && row4.baseline.figure) {
    const p99ok = row4.figure.p99 <= row4.baseline.figure.p99;
    row4.target = '>= 2.5x req/s and p99 <= peer';
    row4.pass = (row4.pass ?? false) && p99ok;
  }
  if (row5) {
    row5.measurement = LABELS.tokenMany.replace('N clients', `${clients} clients`);
    checkRounds(row5, samples);
    const { peer1, peerMany } = samples;
    if (peer1?.length && peerMany?.length) {
      const peerNote = `peer with ${clients} clients: ${pairedRatio(peerMany, peer1).toFixed(2)}x its 1-client rate (${summarize(peerMany).rps.toFixed(0)} req/s)`;
      row5.note = row5.note ? `${row5.note}; ${peerNote}` : peerNote;
    }
  }
  const r7 = input.row7;
  rows.push({
    row: 7,
    measurement: `API-key lookup at cache miss, ${(r7?.keys ?? 1_000_000).toLocaleString('en')} keys in PostgreSQL`,
    figure: null,
    baseline: { name: '-', figure: null },
    ratio: null,
    value: r7 ? `p50 ${r7.p50Ms.toFixed(3)} ms, p99 ${r7.p99Ms.toFixed(3)} ms` : 'not run',
    target: 'p99 <= 2 ms',
    pass: r7 ? r7.p99Ms <= 2 : null,
    ...(r7 ? {} : { note: input.row7Skip ?? 'PostgreSQL only: --db postgres or --row7' }),
  });
  const rss = input.peakRssMb;
  const row8Note = memoryNote(input);
  rows.push({
    row: 8,
    measurement: 'peak RSS of the server during rows 1-5',
    figure: null,
    baseline: { name: '-', figure: null },
    ratio: null,
    value: rss === null ? 'not measured' : mb(rss),
    target: '<= 160 MB',
    pass: rss === null ? null : rss <= 160,
    ...(row8Note ? { note: row8Note } : {}),
  });
  const row9 = compare(9, 'meApiKey', 'meApiKeyWarn', LABELS.meApiKeyWarn, samples, 0.9, input.warnSkip);
  row9.measurement = `${LABELS.meApiKey}, default log level (info)`;
  const row9Note = logNote(input);
  if (row9Note) row9.note = row9Note;
  rows.push(row9, stormRow(input));
  const row11 = compare(
    11,
    'meApiKeyWorkers',
    'meApiKeyOne',
    '1 worker (the default)',
    samples,
    null,
    input.workersSkip,
  );
  const row11Note = workersNote(input);
  if (row11Note) row11.note = row11Note;
  rows.push(row11);
  return rows;
}
