import { DAY_MS, HOUR_MS, type KeyUsage, type UsageBucket } from '../../domain/key-usage.ts';
import { html, type SafeHtml } from '../html.ts';

type Counted = keyof Omit<UsageBucket, 'start'>;

/** The outcomes, bottom of a bar first; `css` is the class the stylesheet colours. */
const OUTCOMES: readonly { field: Counted; css: string; label: string }[] = [
  { field: 'accepted', css: 'accepted', label: 'Accepted' },
  { field: 'revoked', css: 'revoked', label: 'Revoked' },
  { field: 'expired', css: 'expired', label: 'Expired' },
  { field: 'rotatedOut', css: 'rotated-out', label: 'Rotated out' },
  { field: 'rateLimited', css: 'rate-limited', label: 'Rate limited' },
];

// A fixed coordinate system: the SVG scales to its container's width (100%), down to a 375px phone
// (where the stylesheet enlarges the text, in these units, to stay readable).
const WIDTH = 600;
const HEIGHT = 220;
const LEFT = 40;
const RIGHT = WIDTH - 4;
const TOP = 10;
const BOTTOM = HEIGHT - 32;
/** Least room between two day labels, in viewBox units. */
const LABEL_SPACING = 56;

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const at = (n: number) => Number(n.toFixed(2));
const count = (n: number) => n.toLocaleString('en-US');
/** "1.5K": axis labels stay short whatever the volume. */
const compact = new Intl.NumberFormat('en-US', { notation: 'compact' });
const sum = (bucket: UsageBucket) => OUTCOMES.reduce((total, o) => total + bucket[o.field], 0);

/** "Tue 4 Jun", in UTC like the buckets. */
function dayName(ms: number): string {
  const d = new Date(ms);
  return `${WEEKDAYS[d.getUTCDay()]} ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}`;
}

function hourName(ms: number): string {
  return `${dayName(ms)}, ${new Date(ms).toISOString().slice(11, 16)} UTC`;
}

/**
 * The top of the scale: a round number at least `n` whose half, where the middle grid line is
 * labelled, is a whole number too.
 */
function scaleTop(n: number): number {
  if (n <= 10) return Math.max(2, n + (n % 2));
  const power = 10 ** Math.floor(Math.log10(n));
  return ([1, 1.2, 1.4, 1.6, 1.8, 2, 3, 4, 5, 6, 8, 10].find((m) => m * power >= n) ?? 10) * power;
}

/** "the last 7 days" for the console's default range, else its dates. */
function period(usage: KeyUsage): string {
  const days = (usage.to - usage.from) / DAY_MS;
  if (days === 7) return 'the last 7 days';
  return `${dayName(usage.from)} to ${dayName(usage.to - 1)} (UTC)`;
}

function bar(bucket: UsageBucket, x: number, width: number, perRequest: number, usage: KeyUsage): SafeHtml {
  const total = sum(bucket);
  if (total === 0) return html``;
  let y = BOTTOM;
  const parts = OUTCOMES.filter((o) => bucket[o.field] > 0).map((o) => {
    const height = bucket[o.field] * perRequest;
    y -= height;
    return html`<rect class="bar ${o.css}" x="${at(x)}" y="${at(y)}" width="${at(width)}" height="${at(height)}"/>`;
  });
  const when = usage.interval === 'hour' ? hourName(bucket.start) : dayName(bucket.start);
  const what = OUTCOMES.filter((o) => bucket[o.field] > 0)
    .map((o) => `${count(bucket[o.field])} ${o.label.toLowerCase()}`)
    .join(', ');
  return html`<g><title>${when}: ${what}</title>${parts}</g>`;
}

/**
 * Day labels under the bars, at UTC midnights, thinned out so that they never overlap; one that would
 * run past the right edge is left out.
 */
function dayLabels(usage: KeyUsage, slot: number): SafeHtml[] {
  const barsPerDay = usage.interval === 'hour' ? DAY_MS / HOUR_MS : 1;
  const every = Math.max(1, Math.ceil(LABEL_SPACING / (barsPerDay * slot)));
  const short = usage.to - usage.from <= 14 * DAY_MS;
  const labels: SafeHtml[] = [];
  let day = 0;
  usage.buckets.forEach((bucket, i) => {
    if (bucket.start % DAY_MS !== 0) return;
    if (day++ % every !== 0) return;
    const x = LEFT + i * slot;
    if (x > RIGHT - LABEL_SPACING * 0.75) return;
    const d = new Date(bucket.start);
    // On a phone the stylesheet hides the second part (`.detail`): "Mon", or "4".
    const [first, detail] = short
      ? [WEEKDAYS[d.getUTCDay()], ` ${d.getUTCDate()}`]
      : [String(d.getUTCDate()), ` ${MONTHS[d.getUTCMonth()]}`];
    labels.push(
      html`<line class="tick" x1="${at(x)}" y1="${BOTTOM}" x2="${at(x)}" y2="${BOTTOM + 6}"/><text class="x-label" x="${at(x + 2)}" y="${HEIGHT - 6}">${first}<tspan class="detail">${detail}</tspan></text>`,
    );
  });
  return labels;
}

function svg(usage: KeyUsage, id: string): SafeHtml {
  const slot = (RIGHT - LEFT) / Math.max(1, usage.buckets.length);
  const gap = Math.min(slot * 0.2, 8);
  const top = scaleTop(Math.max(...usage.buckets.map(sum)));
  const perRequest = (BOTTOM - TOP) / top;
  const grid = [0, top / 2, top].map((value) => {
    const y = at(BOTTOM - value * perRequest);
    return html`<line class="grid" x1="${LEFT}" y1="${y}" x2="${RIGHT}" y2="${y}"/><text class="y-label" x="${LEFT - 6}" y="${at(y + 5)}">${compact.format(value)}</text>`;
  });
  const { accepted, refused } = usage.totals;
  return html`<svg role="img" aria-labelledby="${id}-title" aria-describedby="${id}-desc" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="100%">
<title id="${id}-title">Requests per ${usage.interval} over ${period(usage)}</title>
<desc id="${id}-desc">${count(accepted)} accepted and ${count(refused)} refused. The table below gives them per day.</desc>
${grid}
${usage.buckets.map((bucket, i) => bar(bucket, LEFT + i * slot + gap / 2, slot - gap, perRequest, usage))}
${dayLabels(usage, slot)}
</svg>`;
}

/** The colours of the chart, named; hidden from screen readers, which read the table instead. */
function legend(): SafeHtml {
  return html`<ul class="usage-legend" aria-hidden="true">${OUTCOMES.map(
    (o) =>
      html`<li><svg viewBox="0 0 10 10" width="10" height="10"><rect class="bar ${o.css}" width="10" height="10"/></svg>${o.label}</li>`,
  )}</ul>`;
}

function totals(usage: KeyUsage): SafeHtml {
  const t = usage.totals;
  const row = (label: string, value: number) =>
    html`<div class="usage-total"><dt>${label}</dt><dd>${count(value)}</dd></div>`;
  return html`<dl class="usage-totals">
${row('Requests', t.accepted + t.refused)}${row('Accepted', t.accepted)}${row('Refused', t.refused)}
${OUTCOMES.slice(1).map((o) => row(o.label, t[o.field]))}
</dl>`;
}

/** One row per UTC day (not per hour): what a screen reader can take in. */
function table(usage: KeyUsage): SafeHtml {
  const days = new Map<number, UsageBucket>();
  for (const bucket of usage.buckets) {
    const day = Math.floor(bucket.start / DAY_MS) * DAY_MS;
    const into = days.get(day) ?? {
      start: day,
      accepted: 0,
      revoked: 0,
      expired: 0,
      rotatedOut: 0,
      rateLimited: 0,
    };
    for (const o of OUTCOMES) into[o.field] += bucket[o.field];
    days.set(day, into);
  }
  return html`<div class="usage-table">
<table>
<caption>Requests per day (UTC), accepted and refused by reason</caption>
<thead><tr><th scope="col" class="usage-cell usage-day">Day</th>${OUTCOMES.map((o) => html`<th scope="col" class="usage-cell">${o.label}</th>`)}</tr></thead>
<tbody>
${[...days.values()].map(
  (day) =>
    html`<tr><th scope="row" class="usage-cell usage-day">${dayName(day.start)}</th>${OUTCOMES.map((o) => html`<td class="usage-cell">${count(day[o.field])}</td>`)}</tr>\n`,
)}</tbody>
</table>
</div>`;
}

/**
 * A key's usage as the console shows it: a stacked bar chart (one bar per bucket, 168 for the default
 * hourly 7 days), drawn on the server as SVG so that it needs no script and no inline style (the
 * console's CSP), with its legend, the totals, and a table per day for screen readers. Colours come
 * from the stylesheet, by outcome class. `id` prefixes the element ids, for a page with two charts.
 */
export function usageChart(usage: KeyUsage, id = 'usage'): SafeHtml {
  if (usage.totals.accepted + usage.totals.refused === 0) {
    return html`<div class="usage-chart"><p class="usage-empty">No requests in ${period(usage)}.</p></div>`;
  }
  return html`<div class="usage-chart">
${svg(usage, id)}
${legend()}
${totals(usage)}
${table(usage)}
</div>`;
}
