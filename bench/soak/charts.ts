/** One line of a chart; a null y leaves a gap. */
export interface Series {
  name: string;
  color: string;
  points: readonly { x: number; y: number | null }[];
  dashed?: boolean;
}

export interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly Series[];
  /** A vertical marker (the end of the warm-up). */
  marker?: { x: number; label: string };
  /** The right end of the x axis (the run's length); the data's last x when absent. */
  xMax?: number;
  /** A horizontal reference line (a floor the reader should know about). */
  reference?: { y: number; label: string };
}

const WIDTH = 760;
const HEIGHT = 340;
const MARGIN = { left: 64, right: 24, top: 56, bottom: 48 };
const PLOT_W = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_H = HEIGHT - MARGIN.top - MARGIN.bottom;

const xml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fixed = (n: number) => Number(n.toFixed(1));

/** A step of 1, 2 or 5 times a power of ten giving about `count` ticks over `range`. */
function niceStep(range: number, count: number): number {
  const raw = range / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const unit = raw / power;
  return (unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10) * power;
}

function ticks(min: number, max: number, count: number): number[] {
  const step = niceStep(max - min || 1, count);
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step)
    out.push(Number(v.toPrecision(12)));
  return out;
}

const label = (v: number) =>
  Math.abs(v) >= 100 || Number.isInteger(v) ? String(Math.round(v)) : v.toPrecision(2);

/**
 * A line chart as a standalone SVG document: axes from 0 (so that a flat line looks flat and a rise
 * looks its size), ticks at round values, a legend, no script and no external resource.
 */
export function lineChart(spec: ChartSpec): string {
  const all = spec.series.flatMap((s) => s.points);
  const ys = all.map((p) => p.y).filter((y): y is number => y !== null && Number.isFinite(y));
  const xs = all.map((p) => p.x);
  const xMax = Math.max(1e-9, ...xs, spec.marker?.x ?? 0, spec.xMax ?? 0);
  const yTop = Math.max(1e-9, ...ys, spec.reference?.y ?? 0);
  const yTicks = ticks(0, yTop * 1.08, 5);
  const yMax = Math.max(yTop * 1.08, yTicks.at(-1) ?? 1);
  const xTicks = ticks(0, xMax, 8);
  const px = (x: number) => fixed(MARGIN.left + (x / xMax) * PLOT_W);
  const py = (y: number) => fixed(MARGIN.top + PLOT_H - (y / yMax) * PLOT_H);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="12">`,
    `<title>${xml(spec.title)}</title>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${MARGIN.left}" y="20" font-size="15" font-weight="600" fill="#111">${xml(spec.title)}</text>`,
  ];
  for (const y of yTicks) {
    out.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + PLOT_W}" y1="${py(y)}" y2="${py(y)}" stroke="#e5e5e5"/>`,
      `<text x="${MARGIN.left - 6}" y="${py(y) + 4}" text-anchor="end" fill="#444">${label(y)}</text>`,
    );
  }
  for (const x of xTicks) {
    out.push(
      `<line x1="${px(x)}" x2="${px(x)}" y1="${MARGIN.top + PLOT_H}" y2="${MARGIN.top + PLOT_H + 4}" stroke="#444"/>`,
      `<text x="${px(x)}" y="${MARGIN.top + PLOT_H + 18}" text-anchor="middle" fill="#444">${label(x)}</text>`,
    );
  }
  out.push(
    `<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${MARGIN.top + PLOT_H}" stroke="#444"/>`,
    `<line x1="${MARGIN.left}" x2="${MARGIN.left + PLOT_W}" y1="${MARGIN.top + PLOT_H}" y2="${MARGIN.top + PLOT_H}" stroke="#444"/>`,
    `<text x="${MARGIN.left + PLOT_W / 2}" y="${HEIGHT - 8}" text-anchor="middle" fill="#222">${xml(spec.xLabel)}</text>`,
    `<text transform="translate(16 ${MARGIN.top + PLOT_H / 2}) rotate(-90)" text-anchor="middle" fill="#222">${xml(spec.yLabel)}</text>`,
  );
  if (spec.reference) {
    const y = py(spec.reference.y);
    out.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + PLOT_W}" y1="${y}" y2="${y}" stroke="#999" stroke-dasharray="2 3"/>`,
    );
  }
  if (spec.marker) {
    const x = px(spec.marker.x);
    out.push(
      `<line x1="${x}" x2="${x}" y1="${MARGIN.top}" y2="${MARGIN.top + PLOT_H}" stroke="#999" stroke-dasharray="4 4"/>`,
      `<text x="${x + 4}" y="${MARGIN.top + 12}" fill="#777" font-size="11">${xml(spec.marker.label)}</text>`,
    );
  }
  for (const series of spec.series) out.push(...seriesPaths(series, px, py));
  const reference = spec.reference
    ? [{ name: spec.reference.label, color: '#999', points: [], dotted: true }]
    : [];
  out.push(...legend([...spec.series, ...reference]));
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

function seriesPaths(series: Series, px: (x: number) => number, py: (y: number) => number): string[] {
  const runs: string[][] = [[]];
  for (const p of series.points) {
    if (p.y === null || !Number.isFinite(p.y)) runs.push([]);
    else runs.at(-1)?.push(`${px(p.x)},${py(p.y)}`);
  }
  const dash = series.dashed ? ' stroke-dasharray="6 4"' : '';
  const out: string[] = [];
  for (const run of runs) {
    if (run.length > 1)
      out.push(
        `<polyline fill="none" stroke="${series.color}" stroke-width="2"${dash} points="${run.join(' ')}"/>`,
      );
    // Dots when the points are few enough to tell apart (per-interval figures).
    if (series.points.length <= 40)
      for (const point of run) {
        const [x, y] = point.split(',');
        out.push(`<circle cx="${x}" cy="${y}" r="3" fill="${series.color}"/>`);
      }
  }
  return out;
}

function legend(series: readonly (Series & { dotted?: boolean })[]): string[] {
  const out: string[] = [];
  let x = MARGIN.left;
  for (const s of series) {
    const dash = s.dotted ? ' stroke-dasharray="2 3"' : s.dashed ? ' stroke-dasharray="6 4"' : '';
    out.push(
      `<line x1="${x}" x2="${x + 22}" y1="38" y2="38" stroke="${s.color}" stroke-width="2"${dash}/>`,
      `<text x="${x + 28}" y="42" fill="#222">${xml(s.name)}</text>`,
    );
    x += 28 + s.name.length * 6.6 + 18;
  }
  return out;
}
