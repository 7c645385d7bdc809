import { describe, expect, it } from 'vitest';
import { usageChart } from '../../src/console/api-keys/usage-chart.ts';
import { HOUR_MS, type KeyUsage, summarizeUsage, usageRange } from '../../src/domain/key-usage.ts';
import type { UsageCount, UsageOutcome } from '../../src/model/types.ts';

/** Wednesday 12 June 2030, 14:20 UTC: the default range runs from Wed 5 June 15:00 to Wed 12 June 15:00. */
const NOW = Date.UTC(2030, 5, 12, 14, 20);
const HOUR = (day: number, hour: number) => Date.UTC(2030, 5, day, hour);

function usage(counts: [hour: number, outcome: UsageOutcome, count: number][], interval?: 'day'): KeyUsage {
  const rows: UsageCount[] = counts.map(([hour, outcome, count]) => ({ apiKeyId: 1, hour, outcome, count }));
  return summarizeUsage('gpk_000000000000000000000001', usageRange({ interval }, NOW), rows);
}

const SAMPLE = usage([
  [HOUR(10, 9), 'accepted', 40],
  [HOUR(10, 9), 'revoked', 10],
  [HOUR(10, 9), 'rate_limited', 30],
  [HOUR(11, 23), 'accepted', 20],
  [HOUR(12, 14), 'expired', 3],
  [HOUR(6, 0), 'rotated_out', 1],
]);

const all = (markup: string, pattern: RegExp) => [...markup.matchAll(pattern)];
/** x, y, width and height of each bar segment of one class. */
function segments(markup: string, css: string) {
  return all(
    markup,
    new RegExp(
      `<rect class="bar ${css}" x="([\\d.]+)" y="([\\d.]+)" width="([\\d.]+)" height="([\\d.]+)"/>`,
      'g',
    ),
  ).map((m) => m.slice(1).map(Number) as [number, number, number, number]);
}

describe('the usage chart of a key (console)', () => {
  it('draws a bar for each hour that had requests, stacked by outcome from the bottom, in a fixed viewBox', () => {
    const markup = String(usageChart(SAMPLE));
    expect(SAMPLE.buckets).toHaveLength(168);
    expect(markup).toContain('viewBox="0 0 600 220" width="100%"');
    // One group per busy hour, each with its hover title.
    expect(all(markup, /<g><title>/g)).toHaveLength(4);
    expect(markup).toContain(
      '<title>Mon 10 Jun, 09:00 UTC: 40 accepted, 10 revoked, 30 rate limited</title>',
    );
    const [accepted] = segments(markup, 'accepted');
    const [revoked] = segments(markup, 'revoked');
    const [limited] = segments(markup, 'rate-limited');
    if (!accepted || !revoked || !limited) throw new Error('a segment is missing');
    // Accepted at the bottom, then revoked, then rate limited on top; heights in proportion.
    expect(revoked[1] + revoked[3]).toBeCloseTo(accepted[1], 1);
    expect(limited[1] + limited[3]).toBeCloseTo(revoked[1], 1);
    expect(accepted[3] / revoked[3]).toBeCloseTo(4, 1);
    expect(accepted[0]).toBe(revoked[0]);
    expect(segments(markup, 'expired')).toHaveLength(1);
    expect(segments(markup, 'rotated-out')).toHaveLength(1);
    // The scale's top is round and above the busiest hour (80 requests).
    expect(markup).toMatch(/<text class="y-label"[^>]*>80<\/text>/);
    expect(markup).toMatch(/<text class="y-label"[^>]*>40<\/text>/);
  });

  it('labels each UTC day under the bars', () => {
    const labels = all(
      String(usageChart(SAMPLE)),
      /<text class="x-label"[^>]*>(\w+)<tspan class="detail"> (\d+)<\/tspan>/g,
    );
    expect(labels.map((m) => `${m[1]} ${m[2]}`)).toEqual([
      'Thu 6',
      'Fri 7',
      'Sat 8',
      'Sun 9',
      'Mon 10',
      'Tue 11',
      'Wed 12',
    ]);
  });

  it('is an image with an accessible name and description; the legend is hidden from screen readers', () => {
    const markup = String(usageChart(SAMPLE, 'key-usage'));
    expect(markup).toContain(
      '<svg role="img" aria-labelledby="key-usage-title" aria-describedby="key-usage-desc"',
    );
    expect(markup).toContain('<title id="key-usage-title">Requests per hour over the last 7 days</title>');
    expect(markup).toContain('<desc id="key-usage-desc">60 accepted and 44 refused.');
    expect(markup).toMatch(/<ul class="usage-legend" aria-hidden="true">(<li>.*?<\/li>){5}<\/ul>/);
  });

  it('gives the totals in a dl and a table with one row per day, with a caption and scoped headers', () => {
    const markup = String(usageChart(SAMPLE));
    const totals = Object.fromEntries(
      all(markup, /<div class="usage-total"><dt>([^<]+)<\/dt><dd>([^<]+)<\/dd><\/div>/g).map((m) => [
        m[1],
        m[2],
      ]),
    );
    expect(totals).toEqual({
      Requests: '104',
      Accepted: '60',
      Refused: '44',
      Revoked: '10',
      Expired: '3',
      'Rotated out': '1',
      'Rate limited': '30',
    });
    expect(markup).toContain('<caption>Requests per day (UTC), accepted and refused by reason</caption>');
    expect(all(markup, /<th scope="col"/g)).toHaveLength(6);
    const rows = all(markup, /<tr><th scope="row" class="usage-cell usage-day">([^<]+)<\/th>(.*?)<\/tr>/g);
    // Wed 5 (from 15:00) to Wed 12 (to 15:00): eight days, never 168 rows.
    expect(rows.map((m) => m[1])).toEqual([
      'Wed 5 Jun',
      'Thu 6 Jun',
      'Fri 7 Jun',
      'Sat 8 Jun',
      'Sun 9 Jun',
      'Mon 10 Jun',
      'Tue 11 Jun',
      'Wed 12 Jun',
    ]);
    const cells = (day: string) =>
      all(rows.find((m) => m[1] === day)?.[2] ?? '', /<td class="usage-cell">([^<]+)<\/td>/g).map(
        (m) => m[1],
      );
    expect(cells('Mon 10 Jun')).toEqual(['40', '10', '0', '0', '30']);
    expect(cells('Thu 6 Jun')).toEqual(['0', '0', '0', '1', '0']);
  });

  it('draws one bar per day at the day interval', () => {
    const daily = usage([[HOUR(10, 9), 'accepted', 40]], 'day');
    const markup = String(usageChart(daily));
    expect(daily.buckets).toHaveLength(7);
    expect(segments(markup, 'accepted')).toHaveLength(1);
    expect(markup).toContain('<title>Mon 10 Jun: 40 accepted</title>');
    expect(all(markup, /<tr><th scope="row"/g)).toHaveLength(7);
  });

  it('says there were no requests instead of drawing an empty chart', () => {
    const markup = String(usageChart(usage([])));
    expect(markup).toContain('<p class="usage-empty">No requests in the last 7 days.</p>');
    expect(markup).not.toContain('<svg');
    expect(markup).not.toContain('<table');
  });

  it('escapes what it is given, and writes no inline style, script or event handler (the console CSP)', () => {
    const markup = String(usageChart(SAMPLE, '"><script>alert(1)</script>'));
    expect(markup).not.toContain('<script');
    expect(markup).toContain('aria-labelledby="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;-title"');
    expect(markup).not.toMatch(/\sstyle=/i);
    expect(markup).not.toMatch(/\son[a-z]+=/i);
    const elements = new Set(all(markup, /<([a-z]+)[\s>/]/g).map((m) => m[1]));
    expect([...elements].sort()).toEqual(
      [
        'caption',
        'dd',
        'desc',
        'div',
        'dl',
        'dt',
        'g',
        'li',
        'line',
        'rect',
        'svg',
        'table',
        'tbody',
        'td',
        'text',
        'th',
        'thead',
        'title',
        'tr',
        'tspan',
        'ul',
      ].sort(),
    );
  });

  it('counts every request of the range once in the totals and once in the per-day table', () => {
    const hours = Array.from({ length: 168 }, (_, i) => SAMPLE.from + i * HOUR_MS);
    const busy = usage(hours.map((hour, i) => [hour, 'accepted', i + 1]));
    const markup = String(usageChart(busy));
    const total = (168 * 169) / 2;
    expect(busy.totals.accepted).toBe(total);
    expect(markup).toContain(`<dt>Requests</dt><dd>${total.toLocaleString('en-US')}</dd>`);
    const perDay = all(markup, /<tr><th scope="row"[^>]*>[^<]+<\/th><td class="usage-cell">([\d,]+)<\/td>/g);
    expect(perDay.reduce((sum, m) => sum + Number(m[1]?.replace(/,/g, '')), 0)).toBe(total);
  });
});
