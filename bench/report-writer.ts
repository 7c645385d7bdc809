import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerMemory } from './memory.ts';
import type { BenchOptions } from './options.ts';
import { type machine, REPO_ROOT } from './options.ts';
import type { RowResult, Samples } from './report.ts';
import type { Row7Result } from './row7.ts';
import { LABELS, type MeasurementId } from './scenarios.ts';
import { median } from './stats.ts';

export interface Report {
  generatedAt: string;
  machine: ReturnType<typeof machine>;
  settings: {
    db: string;
    rounds: number;
    durationSeconds: number;
    connections: number;
    pipelining: number;
    clients: number;
    workspaces: number;
    coldTokensPerRound: number | null;
    peer: string | null;
    quick: boolean;
    /** Concurrent sign-ins of row 10, and workers of row 11's second server. */
    stormSize: number;
    workers: number;
  };
  /** Row 8's figures: the main server's memory (MB) right after start, at peak, and its heap after rows 1-5. */
  memory: { idleRssMb: number | null; peakRssMb: number | null; steady: ServerMemory | null };
  /** 1-minute load average of the machine when the run started and ended: other work skews figures. */
  loadAverage: { start: number; end: number };
  rows: RowResult[];
  samples: Samples;
  row7: Row7Result | null;
}

const n0 = (v: number | undefined) => (v === undefined ? '-' : Math.round(v).toLocaleString('en'));
/** Milliseconds; infinite for a storm round in which no request was answered (row 10). */
const ms = (v: number | null | undefined) => {
  if (v === undefined) return '-';
  // JSON has no Infinity: a report read back holds null there.
  if (v === null || !Number.isFinite(v)) return 'none answered';
  return v.toFixed(v < 10 ? 2 : 1);
};

function verdict(pass: boolean | null): string {
  if (pass === null) return 'report';
  return pass ? 'PASS' : '**FAIL**';
}

/** The markdown table (and its header naming the machine and settings). */
export function renderMarkdown(report: Report): string {
  const m = report.machine;
  const s = report.settings;
  const lines = [
    `Run ${report.generatedAt} on ${m.cpu} (${m.cores} cores, ${m.memoryGb} GB), ${m.platform}, Node ${m.node}.`,
    `Database ${s.db}; ${s.rounds} rounds of ${s.durationSeconds} s per measurement, A and B interleaved; ` +
      `${s.connections} connections, pipelining ${s.pipelining}; ${s.clients.toLocaleString('en')} clients for row 5; ` +
      `peer ${s.peer ?? 'not run'}${s.quick ? '; QUICK smoke run, not for comparison' : ''}.`,
    'Every server runs with the shipped defaults (log level info: one access-log line per request, written to a file), ' +
      `rate limits lifted above the load; row 9 adds a server at warn, row 11 one with GATEHOUSE_WORKERS=${s.workers}; ` +
      `row 10 storms with ${s.stormSize} concurrent sign-ins.`,
    `Load average (1 min) ${report.loadAverage.start.toFixed(2)} at start, ${report.loadAverage.end.toFixed(2)} at end.`,
    'Each figure is the median of the rounds; a ratio is the median of the per-round ratios; errors are summed.',
    '',
    '| # | measurement | req/s | p50 ms | p99 ms | errors | baseline | baseline req/s | baseline p99 ms | ratio / value | target | result |',
    '|---|---|---:|---:|---:|---:|---|---:|---:|---:|---|---|',
  ];
  for (const row of report.rows) {
    const f = row.figure;
    const b = row.baseline.figure;
    lines.push(
      `| ${row.row} | ${row.measurement} | ${n0(f?.rps)} | ${ms(f?.p50)} | ${ms(f?.p99)} | ${f ? f.errors : '-'} | ` +
        `${row.baseline.name} | ${n0(b?.rps)} | ${ms(b?.p99)} | ${row.value} | ${row.target} | ${verdict(row.pass)} |`,
    );
  }
  lines.push(
    '',
    'Every measurement (medians of the rounds; CPU in cores used by the server under test, its processes summed, ' +
      'and by the load generator; access-log lines the server wrote per request):',
    '',
    '| measurement | rounds req/s | req/s | p50 ms | p99 ms | errors | server CPU | bench CPU | log lines/req |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const [id, rounds] of Object.entries(report.samples)) {
    if (!rounds?.length) continue;
    const med = (pick: (s: (typeof rounds)[number]) => number | null | undefined) =>
      median(rounds.map(pick).filter((v): v is number => typeof v === 'number'));
    const fixed = (v: number) => (Number.isNaN(v) ? '-' : v.toFixed(2));
    lines.push(
      `| ${LABELS[id as MeasurementId]} | ${rounds.map((r) => Math.round(r.rps)).join(', ')} | ${n0(med((r) => r.rps))} | ` +
        `${ms(med((r) => r.p50))} | ${ms(med((r) => r.p99))} | ${rounds.reduce((a, r) => a + r.errors, 0)} | ` +
        `${fixed(med((r) => r.serverCpu))} | ${fixed(med((r) => r.clientCpu))} | ${fixed(med((r) => r.logLinesPerRequest))} |`,
    );
  }
  const notes = report.rows.filter((r) => r.note).map((r) => `- Row ${r.row}: ${r.note}`);
  if (notes.length) lines.push('', ...notes);
  if (report.row7?.plan) {
    lines.push(
      '',
      `Row 7: ${report.row7.keys.toLocaleString('en')} keys loaded in ${report.row7.loadSeconds.toFixed(1)} s; ` +
        `${report.row7.lookups} sequential lookups through \`findKeyBySecretHash\`, max ${report.row7.maxMs.toFixed(2)} ms; ` +
        `the same SQL through pg alone: p50 ${report.row7.rawP50Ms.toFixed(3)} ms, p99 ${report.row7.rawP99Ms.toFixed(3)} ms; ` +
        `PostgreSQL's own execution time (EXPLAIN ANALYZE, 200 other random keys): p50 ${report.row7.serverP50Ms.toFixed(3)} ms, ` +
        `p99 ${report.row7.serverP99Ms.toFixed(3)} ms. Query and plan:`,
      '',
      '```',
      report.row7.plan,
      '```',
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Writes `bench/results/<name>.{md,json}` atomically (tmp then rename): a killed run leaves the old files. */
export function writeReport(report: Report, options: BenchOptions): { md: string; json: string } {
  const dir = join(REPO_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const md = join(dir, `${options.outName}.md`);
  const json = join(dir, `${options.outName}.json`);
  writeFileSync(`${md}.tmp`, `# Gatehouse benchmark\n\n${renderMarkdown(report)}`);
  writeFileSync(`${json}.tmp`, `${JSON.stringify(report, null, 2)}\n`);
  renameSync(`${md}.tmp`, md);
  renameSync(`${json}.tmp`, json);
  return { md, json };
}

/**
 * Replaces the block between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->` in docs/performance.md
 * with the run's table, so that the document always shows the latest committed figures.
 * Returns false when the document or its markers are missing.
 */
export function updateDocs(report: Report, name: string): boolean {
  const file = join(REPO_ROOT, 'docs', 'performance.md');
  if (!existsSync(file)) return false;
  const text = readFileSync(file, 'utf8');
  const start = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) return false;
  writeFileSync(file, `${text.slice(0, from + start.length)}\n${renderMarkdown(report)}${text.slice(to)}`);
  return true;
}
