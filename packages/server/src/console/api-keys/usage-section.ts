import type { FastifyRequest } from 'fastify';
import { readKeyUsage, usageRange } from '../../domain/key-usage.ts';
import type { ApiKey } from '../../model/types.ts';
import { html, type SafeHtml } from '../html.ts';
import { usageChart } from './usage-chart.ts';

/**
 * The key's requests per hour over the last 7 days, by outcome: a chart and its table. This instance's
 * pending counts are written first, so that the page shows the requests just made through it.
 */
export async function usageSection(request: FastifyRequest, key: ApiKey): Promise<SafeHtml> {
  const { db, usage } = request.server.services;
  await usage.flush().catch((error: unknown) => request.log.warn({ err: error }, 'key usage flush failed'));
  const counts = await readKeyUsage(db, key.publicKey, key.tenantId, usageRange({ interval: 'hour' }));
  return html`<section class="panel" aria-labelledby="usage-title">
<h2 id="usage-title">Usage, last 7 days</h2>
${usageChart(counts)}
</section>`;
}
