import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { percentile } from '../stats.ts';
import { lineChart } from './charts.ts';
import type { FaultTest, FuzzInventory } from './inventory.ts';
import { type Family, KINDS, type KindId, LATENCY_GROUPS } from './kinds.ts';
import type { ErrorTally, IntervalTally, KindTally } from './recorder.ts';
import type { MemorySample } from './sampler.ts';
import { FLAT_MB_PER_MIN, type Trend, VERDICT_MINUTES } from './trend.ts';
import type { Check } from './verify.ts';

/** Everything a soak run produced, as written to results.json and rendered in the document. */
export interface SoakReport {
  generatedAt: string;
  machine: { cpu: string; cores: number; memoryGb: number; node: string; platform: string };
  settings: {
    db: string;
    durationSeconds: number;
    intervalSeconds: number;
    sampleSeconds: number;
    rate: number;
    lanes: Record<string, number>;
    /** Requests of the refused lane a minute, and at most this many probes of revoked or rotated-out credentials. */
    refusedPerMinute: number;
    probesPerMinute: number;
  };
  loadAverage: { start: number; end: number };
  kinds: { kind: KindId; statuses: Record<string, number>; p50: number; p99: number; errors: number }[];
  /** Latency of each group over the whole run, and its worst interval after warm-up (ms). */
  groups: { id: string; label: string; requests: number; p50: number; p99: number; worstP99: number }[];
  intervals: IntervalTally[];
  samples: MemorySample[];
  trends: { rss: Trend; heap: Trend };
  checks: Check[];
  errors: ErrorTally[];
  refusalsSkipped: number;
  fuzz: FuzzInventory | null;
  faults: FaultTest[];
}

const START = '<!-- soak:latest -->';
const END = '<!-- /soak:latest -->';
const n0 = (v: number) => Math.round(v).toLocaleString('en');
const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(v < 10 ? 2 : 1) : '-');
const mb = (v: number | null) => (v === null || !Number.isFinite(v) ? '-' : v.toFixed(1));
const signed = (v: number, digits = 2) =>
  Number.isFinite(v) ? `${v >= 0 ? '+' : ''}${v.toFixed(digits)}` : 'n/a';
const WORKLOAD: readonly Family[] = ['api', 'token', 'sign-in', 'admin', 'refused'];

/** The per-kind figures of the report, from the recorder's totals. */
export function kindRows(totals: Map<KindId, KindTally>, errors: ErrorTally[]): SoakReport['kinds'] {
  const order = Object.keys(KINDS) as KindId[];
  return order
    .filter((kind) => totals.has(kind))
    .map((kind) => {
      const tally = totals.get(kind) as KindTally;
      return {
        kind,
        statuses: Object.fromEntries(
          [...tally.statuses].sort(([a], [b]) => a - b).map(([s, c]) => [String(s), c]),
        ),
        p50: tally.latencies.length ? percentile(tally.latencies, 50) : Number.NaN,
        p99: tally.latencies.length ? percentile(tally.latencies, 99) : Number.NaN,
        errors: errors.filter((e) => e.kind === kind).reduce((s, e) => s + e.count, 0),
      };
    });
}

/** Whole-run latency of each group of kinds, and the worst interval p99 after the warm-up. */
export function groupRows(totals: Map<KindId, KindTally>, intervals: IntervalTally[]): SoakReport['groups'] {
  return LATENCY_GROUPS.map((group) => {
    const times: number[] = [];
    for (const [kind, tally] of totals)
      if ((group.families as readonly Family[]).includes(KINDS[kind].family)) times.push(...tally.latencies);
    const later = intervals.slice(1).map((i) => i.groups[group.id]?.p99 ?? Number.NaN);
    return {
      id: group.id,
      label: group.label,
      requests: times.length,
      p50: times.length ? percentile(times, 50) : Number.NaN,
      p99: times.length ? percentile(times, 99) : Number.NaN,
      worstP99: Math.max(...later.filter(Number.isFinite)),
    };
  });
}

function durationText(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`;
}

/** Sums of the workload's answers: served (2xx/3xx as expected), refused (expected 401), limited, errors. */
function served(report: SoakReport) {
  const sums = { all: 0, ok: 0, refused: 0, limited: 0, errors: 0 };
  for (const row of report.kinds) {
    if (!WORKLOAD.includes(KINDS[row.kind].family)) continue;
    for (const [status, count] of Object.entries(row.statuses)) {
      const s = Number(status);
      sums.all += count;
      if (s === 429) sums.limited += count;
      else if ((KINDS[row.kind].expect as readonly number[]).includes(s)) {
        if (s === 401) sums.refused += count;
        else sums.ok += count;
      }
    }
  }
  sums.errors = report.errors.reduce((s, e) => s + e.count, 0);
  return sums;
}

function trendText(name: string, t: Trend): string {
  const verdict =
    t.flat === null
      ? `no verdict under ${VERDICT_MINUTES} min after warm-up`
      : t.flat
        ? 'flat'
        : '**growing**';
  return `${name} ${signed(t.slope)} ± ${Number.isFinite(t.stderr) ? t.stderr.toFixed(2) : 'n/a'} MB/min (${verdict}; mean ${mb(t.mean)} MB)`;
}

function summaryTable(report: SoakReport): string[] {
  const s = served(report);
  const seconds = report.settings.durationSeconds;
  const fuzz = report.fuzz;
  const checksOk = report.checks.filter((c) => c.ok).length;
  const loop = report.samples.filter((x) => x.t > report.settings.intervalSeconds);
  const loopP99 = Math.max(...loop.map((x) => x.loopP99Ms ?? 0));
  const loopMax = Math.max(...loop.map((x) => x.loopMaxMs ?? 0));
  return [
    '| | result |',
    '|---|---|',
    `| Inputs tried by the fuzz test | ${
      fuzz
        ? `${n0(fuzz.injected)} generated requests through \`inject\`, ${n0(fuzz.raw)} over a raw socket and ${fuzz.fixed} fixed request lines the HTTP parser refuses, on each database dialect of the run (SQLite, and PostgreSQL when the suite has one): \`${fuzz.file}\` as configured (\`GATEHOUSE_FUZZ_RUNS\` unset), in every \`npm test\`. The soak does not run it.`
        : 'the fuzz test was not found'
    } |`,
    `| Faults survived | ${report.faults.length} fault-injection test files in the suite, listed below; they pass or fail in CI, not in this run |`,
    `| Requests served | ${n0(s.all)} in ${durationText(seconds)} (${n0(s.all / seconds)} req/s): ${n0(s.ok)} answered as asked, ${n0(s.refused)} refused as expected (401), ${n0(s.limited)} rate-limited (429); **${n0(s.errors)} errors** |`,
    `| Nothing lost | ${checksOk} of ${report.checks.length} checks held${checksOk === report.checks.length ? '' : ' (**FAIL**)'} (below) |`,
    `| Memory after warm-up | ${trendText('RSS', report.trends.rss)}; ${trendText('JS heap used', report.trends.heap)}: least squares over the ${report.trends.rss.points} readings after the first interval; flat: under ${FLAT_MB_PER_MIN} MB/min or within two standard errors of 0 |`,
    `| Event-loop delay after warm-up | p99 ${ms(loopP99)} ms in the worst ${report.settings.sampleSeconds}-s window, max ${ms(loopMax)} ms (Node's \`monitorEventLoopDelay\` at its 10 ms resolution: an idle loop reads about 10 ms) |`,
    ...report.groups.map(
      (g) =>
        `| Latency, ${g.label} | p50 ${ms(g.p50)} ms, p99 ${ms(g.p99)} ms over ${n0(g.requests)} answers; worst interval p99 after warm-up ${ms(g.worstP99)} ms |`,
    ),
  ];
}

function kindTable(report: SoakReport): string[] {
  const lines = ['| kind | answers | statuses | p50 ms | p99 ms | errors |', '|---|---:|---|---:|---:|---:|'];
  for (const row of report.kinds) {
    const count = Object.values(row.statuses).reduce((s, c) => s + c, 0);
    const statuses = Object.entries(row.statuses)
      .map(([s, c]) => `${s === '0' ? 'no answer' : s}: ${n0(c)}`)
      .join(', ');
    lines.push(
      `| ${KINDS[row.kind].label} | ${n0(count)} | ${statuses} | ${ms(row.p50)} | ${ms(row.p99)} | ${row.errors || 0} |`,
    );
  }
  return lines;
}

/** Mean of the samples taken during an interval. */
function intervalMean(
  samples: MemorySample[],
  from: number,
  to: number,
  pick: (s: MemorySample) => number | null,
) {
  const values = samples
    .filter((s) => s.t > from && s.t <= to + 0.5)
    .map(pick)
    .filter((v): v is number => v !== null);
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
}

function intervalTable(report: SoakReport): string[] {
  const step = report.settings.intervalSeconds;
  const lines = [
    '| interval | requests | req/s | errors | p50 ms | p99 ms | API p99 ms | OAuth p99 ms | RSS MB | heap MB | loop p99 ms | loop max ms | server CPU | soak CPU |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const i of report.intervals) {
    const from = i.index * step;
    // The last interval may be shorter: it ends with the workload.
    const to = Math.min(from + step, report.settings.durationSeconds);
    const mean = (pick: (s: MemorySample) => number | null) => intervalMean(report.samples, from, to, pick);
    const worst = (pick: (s: MemorySample) => number | null) => {
      const values = report.samples.filter((s) => s.t > from && s.t <= to + 0.5).map(pick);
      const finite = values.filter((v): v is number => v !== null);
      return finite.length ? Math.max(...finite) : Number.NaN;
    };
    lines.push(
      `| ${from}-${to} s${i.index === 0 ? ' (warm-up)' : ''} | ${n0(i.requests)} | ${n0(i.requests / (to - from))} | ${i.outcomes.error} | ` +
        `${ms(i.all.p50)} | ${ms(i.all.p99)} | ${ms(i.groups.api?.p99 ?? Number.NaN)} | ${ms(i.groups.token?.p99 ?? Number.NaN)} | ` +
        `${mb(mean((s) => s.rssMb))} | ${mb(mean((s) => s.heapUsedMb))} | ${ms(worst((s) => s.loopP99Ms))} | ${ms(worst((s) => s.loopMaxMs))} | ` +
        `${(mean((s) => s.serverCpu) ?? Number.NaN).toFixed(2)} | ${(mean((s) => s.benchCpu) ?? Number.NaN).toFixed(2)} |`,
    );
  }
  return lines;
}

/** The three charts, as SVG documents by file name. */
export function charts(report: SoakReport): Record<string, string> {
  const step = report.settings.intervalSeconds;
  const warmUp = { x: step / 60, label: 'end of warm-up' };
  const perInterval = (pick: (i: IntervalTally) => number) =>
    // Each interval at its middle, so that the warm-up interval sits left of its marker.
    report.intervals.map((i) => ({
      x: (i.index * step + Math.min((i.index + 1) * step, report.settings.durationSeconds)) / 2 / 60,
      y: Number.isFinite(pick(i)) ? pick(i) : null,
    }));
  const perSample = (pick: (s: MemorySample) => number | null) =>
    report.samples.map((s) => ({ x: s.t / 60, y: pick(s) }));
  return {
    'latency.svg': lineChart({
      title: `Latency per ${durationText(step)} interval`,
      xLabel: 'minutes since the start of the workload',
      yLabel: 'ms',
      marker: warmUp,
      xMax: report.settings.durationSeconds / 60,
      series: [
        {
          name: 'API calls p50',
          color: '#2563eb',
          points: perInterval((i) => i.groups.api?.p50 ?? Number.NaN),
        },
        {
          name: 'API calls p99',
          color: '#1e3a8a',
          points: perInterval((i) => i.groups.api?.p99 ?? Number.NaN),
        },
        {
          name: 'OAuth p99',
          color: '#16a34a',
          points: perInterval((i) => i.groups.token?.p99 ?? Number.NaN),
        },
        {
          name: 'admin API p99',
          color: '#d97706',
          points: perInterval((i) => i.groups.admin?.p99 ?? Number.NaN),
        },
        { name: 'all requests p99', color: '#6b7280', dashed: true, points: perInterval((i) => i.all.p99) },
      ],
    }),
    'memory.svg': lineChart({
      title: 'Server memory',
      xLabel: 'minutes since the start of the workload',
      yLabel: 'MB',
      marker: warmUp,
      xMax: report.settings.durationSeconds / 60,
      series: [
        { name: 'RSS (/proc)', color: '#7c3aed', points: perSample((s) => s.rssMb) },
        {
          name: 'JS heap allocated',
          color: '#0d9488',
          dashed: true,
          points: perSample((s) => s.heapTotalMb),
        },
        { name: 'JS heap used', color: '#0f766e', points: perSample((s) => s.heapUsedMb) },
      ],
    }),
    'event-loop.svg': lineChart({
      title: `Server event-loop delay per ${report.settings.sampleSeconds}-s window`,
      xLabel: 'minutes since the start of the workload',
      yLabel: 'ms',
      marker: warmUp,
      xMax: report.settings.durationSeconds / 60,
      reference: { y: 10, label: '10 ms: the sampling resolution, what an idle loop reads' },
      series: [
        { name: 'p50', color: '#2563eb', points: perSample((s) => s.loopP50Ms) },
        { name: 'p99', color: '#dc2626', points: perSample((s) => s.loopP99Ms) },
        { name: 'max', color: '#9ca3af', dashed: true, points: perSample((s) => s.loopMaxMs) },
      ],
    }),
  };
}

/** The generated block of the document: the last run's results. */
export function renderBlock(report: SoakReport, chartsDir: string, docFile: string): string {
  const m = report.machine;
  const st = report.settings;
  const link = (file: string) => relative(dirname(docFile), join(chartsDir, file)).split('\\').join('/');
  const lanes = Object.entries(st.lanes)
    .map(([name, count]) => `${count} ${name}`)
    .join(', ');
  const short = st.durationSeconds < 300;
  const lines = [
    `Run ${report.generatedAt} on ${m.cpu} (${m.cores} cores, ${m.memoryGb} GB), ${m.platform}, Node ${m.node}; database ${st.db}.`,
    `Duration **${durationText(st.durationSeconds)}**${
      short
        ? ' (a short check run, not the 5-minute soak: the next `npm run soak` replaces these figures)'
        : ''
    }, in intervals of ${durationText(st.intervalSeconds)}; the server read every ${st.sampleSeconds} s. ` +
      `At most ${st.rate} requests/s over ${lanes} lanes, one request in flight per lane. Credentials meant to be refused: ${st.refusedPerMinute} a minute from the refused lane, and ` +
      `at most ${st.probesPerMinute} a minute of revoked or rotated-out ones tried again (${report.refusalsSkipped} such probes skipped to stay under that). Load average (1 min) ${report.loadAverage.start.toFixed(2)} at start, ${report.loadAverage.end.toFixed(2)} at end.`,
    '',
    ...summaryTable(report),
    '',
    '#### Nothing lost',
    '',
    ...report.checks.map((c) => `- ${c.ok ? 'Held' : '**FAILED**'}: ${c.name}. ${c.detail}.`),
    '',
    '#### Errors',
    '',
    ...(report.errors.length
      ? report.errors.map(
          (e) =>
            `- ${KINDS[e.kind].label}: ${e.what}, ${e.count} times${e.example ? ` (first: \`${e.example.replace(/`/g, "'")}\`)` : ''}`,
        )
      : [
          'None: every answer had a status its request expects (2xx, a 303 in the sign-in flow, 401 for the refused kinds) or 429.',
        ]),
    '',
    '#### Charts',
    '',
    `![Latency per interval: API calls p50 and p99, OAuth p99, admin API p99, all requests p99](${link('latency.svg')})`,
    '',
    `![Server memory over time: RSS, JS heap allocated and used](${link('memory.svg')})`,
    '',
    `![Server event-loop delay over time: p50, p99 and max per window](${link('event-loop.svg')})`,
    '',
    '#### Per interval',
    '',
    ...intervalTable(report),
    '',
    '#### Requests by kind (whole run)',
    '',
    ...kindTable(report),
    '',
    '#### Faults survived: the fault-injection tests',
    '',
    '| test file | fault injected, and what must hold | `it` blocks | runs in |',
    '|---|---|---:|---|',
    ...report.faults.map(
      (f) => `| \`${f.file.replace('packages/server/test/', '')}\` | ${f.fault} | ${f.tests} | ${f.run} |`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * Writes the charts and results.json, then replaces the block between the markers of the document
 * (creating a bare document with the markers when there is none). Files are written to a temporary
 * name then renamed, so that an interrupted run leaves the previous result whole.
 */
export function writeReport(report: SoakReport, docFile: string, chartsDir: string, jsonFile: string): void {
  mkdirSync(chartsDir, { recursive: true });
  const atomic = (file: string, text: string) => {
    writeFileSync(`${file}.tmp`, text);
    renameSync(`${file}.tmp`, file);
  };
  for (const [file, svg] of Object.entries(charts(report))) atomic(join(chartsDir, file), svg);
  atomic(jsonFile, `${JSON.stringify(report, null, 1)}\n`);
  const block = renderBlock(report, chartsDir, docFile);
  const existing = existsSync(docFile)
    ? readFileSync(docFile, 'utf8')
    : `# Soak: ${basename(docFile)}\n\n${START}\n${END}\n`;
  const from = existing.indexOf(START);
  const to = existing.indexOf(END);
  const text =
    from >= 0 && to > from
      ? `${existing.slice(0, from + START.length)}\n${block}${existing.slice(to)}`
      : `${existing.trimEnd()}\n\n${START}\n${block}${END}\n`;
  atomic(docFile, text);
}
