import type { Sample } from './load.ts';
import type { Row7Result } from './row7.ts';
import { LABELS, type MeasurementId } from './scenarios.ts';
import { type Figure, pairedRatio, summarize } from './stats.ts';

/** One line of the report table. */
export interface RowResult {
  row: number;
  measurement: string;
  figure: Omit<Figure, 'rounds'> | null;
  baseline: { name: string; figure: Omit<Figure, 'rounds'> | null };
  /** Throughput ratio measurement / baseline (median of paired rounds), or a value (rows 7, 8). */
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
  const base = { row, measurement: LABELS[a], target: target === null ? 'report' : `>= ${target}x` };
  if (!sa?.length || !sb?.length) {
    return {
      ...base,
      figure: null,
      baseline: { name: baselineName, figure: null },
      ratio: null,
      value: 'not run',
      pass: null,
      note: skipped ?? 'not selected',
    };
  }
  const ratio = pairedRatio(sa, sb);
  return {
    ...base,
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
  row7: Row7Result | null;
  row7Skip: string | null;
}

/** Rows 1 to 8 with their baselines, ratios and targets. */
export function buildRows(input: ReportInput): RowResult[] {
  const { samples } = input;
  const peer = `oidc-provider ${input.peerVersion ?? ''}`.trim();
  const rows = [
    compare(1, 'meApiKey', 'healthz', LABELS.healthz, samples, 0.85, null),
    compare(2, 'meBearer', 'meApiKey', 'row 1', samples, 0.95, input.tokenSkip),
    compare(3, 'meBearerCold', 'meApiKey', 'row 1', samples, null, input.tokenSkip),
    compare(4, 'token1', 'peer1', `${peer}, 1 client`, samples, 2.5, input.tokenSkip ?? input.peerSkip),
    compare(5, 'tokenMany', 'token1', 'row 4', samples, 0.85, input.tokenSkip),
    compare(6, 'workspaces', 'meApiKeyAgain', 'row 1 (re-measured beside row 6)', samples, null, null),
  ];
  const row4 = rows[3];
  if (row4?.figure && row4.baseline.figure) {
    const p99ok = row4.figure.p99 <= row4.baseline.figure.p99;
    row4.target = '>= 2.5x req/s and p99 <= peer';
    row4.pass = (row4.pass ?? false) && p99ok;
  }
  const row5 = rows[4];
  if (row5)
    row5.measurement = LABELS.tokenMany.replace('N clients', `${input.clients.toLocaleString('en')} clients`);
  const peer1 = samples.peer1;
  const peerMany = samples.peerMany;
  if (row5 && peer1?.length && peerMany?.length) {
    row5.note = `peer with ${input.clients.toLocaleString('en')} clients: ${pairedRatio(peerMany, peer1).toFixed(2)}x its 1-client rate (${summarize(peerMany).rps.toFixed(0)} req/s)`;
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
  rows.push({
    row: 8,
    measurement: 'peak RSS of the server during rows 1-5',
    figure: null,
    baseline: { name: '-', figure: null },
    ratio: null,
    value: rss === null ? 'not measured' : `${rss.toFixed(0)} MB`,
    target: '<= 200 MB',
    pass: rss === null ? null : rss <= 200,
    ...(input.idleRssMb === null
      ? {}
      : { note: `RSS right after start, before any load: ${input.idleRssMb.toFixed(0)} MB` }),
  });
  return rows;
}
