import type { Ledger } from './ledger.ts';
import type { Recorder } from './recorder.ts';
import { sumByLabel } from './sampler.ts';
import type { Check } from './verify.ts';

const fmt = (m: Map<string, number>) =>
  [...m]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}: ${v.toLocaleString('en')}`)
    .join(', ');

/** The request counter by status, without `/metrics` (read by the soak, and refused to anyone else). */
function byStatus(text: string): Map<string, number> {
  const withoutMetrics = text
    .split('\n')
    .filter((line) => !line.includes('route="/metrics"'))
    .join('\n');
  return sumByLabel(withoutMetrics, 'gatehouse_http_requests_total', 'status');
}

/** `after - before` of the request counter by status, leaving out zeros. */
function delta(before: string, after: string): Map<string, number> {
  const a = byStatus(before);
  const out = new Map<string, number>();
  for (const [key, value] of byStatus(after)) {
    const d = value - (a.get(key) ?? 0);
    if (d !== 0) out.set(key, d);
  }
  return out;
}

/**
 * The server counted every answer the soak received, status by status, between the baseline scrape
 * and the final one: no request vanished on either side. `/metrics` is left out of both sides: the
 * server refuses it to other readers of the machine, whose 401s the soak never sees.
 */
export function servedCheck(before: string, after: string, recorder: Recorder): Check {
  const server = delta(before, after);
  const soak = new Map<string, number>();
  const families = ['api', 'token', 'sign-in', 'admin', 'refused', 'check'] as const;
  for (const [status, count] of recorder.statusTotals(families)) soak.set(String(status), count);
  const unanswered = soak.get('0') ?? 0;
  soak.delete('0');
  const keys = new Set([...server.keys(), ...soak.keys()]);
  const differ = [...keys].filter((k) => (server.get(k) ?? 0) !== (soak.get(k) ?? 0));
  const total = [...soak.values()].reduce((s, v) => s + v, 0);
  // Where the server's count differs, its routes with that status: what the soak sent and did not count.
  const routes = (status: string) => {
    const line = new RegExp(
      `^gatehouse_http_requests_total\\{([^}]*status="${status}"[^}]*)\\} ([0-9.e+-]+)$`,
      'gm',
    );
    const count = (text: string) => {
      const m = new Map<string, number>();
      for (const x of text.matchAll(line)) {
        const route = `${/method="([^"]*)"/.exec(x[1] ?? '')?.[1]} ${/route="([^"]*)"/.exec(x[1] ?? '')?.[1]}`;
        m.set(route, (m.get(route) ?? 0) + Number(x[2]));
      }
      return m;
    };
    const a = count(before);
    return [...count(after)].map(([route, v]) => `${route} ${v - (a.get(route) ?? 0)}`).join(', ');
  };
  return {
    name: 'every request got an answer, and the server counted exactly the answers the soak received, status by status (/metrics aside)',
    ok: differ.length === 0 && unanswered === 0,
    detail:
      differ.length || unanswered
        ? `${unanswered} without an answer; server ${fmt(server)} | soak ${fmt(soak)}; ` +
          differ.map((status) => `server's ${status} by route: ${routes(status)}`).join('; ')
        : `${total.toLocaleString('en')} answers on both sides (${fmt(soak)})`,
  };
}

/** The token endpoint's own count of tokens issued, grant by grant, equals the tokens the soak received. */
export function issuedCheck(before: string, after: string, ledger: Ledger): Check {
  const issued = new Map<string, number>();
  const a = new Map<string, number>();
  const line = /^gatehouse_token_requests_total\{([^}]*)\} ([0-9.e+-]+)$/gm;
  for (const [text, into] of [
    [before, a],
    [after, issued],
  ] as const) {
    for (const m of text.matchAll(line)) {
      if (!/outcome="issued"/.test(m[1] ?? '')) continue;
      const grant = /grant="([^"]*)"/.exec(m[1] ?? '')?.[1] ?? '';
      into.set(grant, (into.get(grant) ?? 0) + Number(m[2]));
    }
  }
  const server = (grant: string) => (issued.get(grant) ?? 0) - (a.get(grant) ?? 0);
  const pairs: [string, number][] = [
    ['client_credentials', ledger.issued.clientCredentials],
    ['authorization_code', ledger.issued.authorizationCode],
    ['refresh_token', ledger.issued.refresh],
  ];
  const ok = pairs.every(([grant, soak]) => server(grant) === soak);
  return {
    name: 'the token endpoint counted exactly the tokens the soak received, grant by grant',
    ok,
    detail: pairs
      .map(
        ([grant, soak]) =>
          `${grant} ${server(grant).toLocaleString('en')}${server(grant) === soak ? '' : ` (soak ${soak})`}`,
      )
      .join(', '),
  };
}
