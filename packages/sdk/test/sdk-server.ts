import { CLI_ACTOR } from '../../server/src/domain/audit.ts';
import { createWorkspace } from '../../server/src/domain/workspaces.ts';
import { listenTestApp } from '../../server/test/helpers/http.ts';
import { seed } from '../../server/test/helpers/seed.ts';
import type { DialectName } from '../../server/test/helpers/test-app.ts';

/** A real Gatehouse listening on a loopback port (the SDK talks HTTP, not `inject`), seeded. */
export async function startServer(dialect: DialectName) {
  const testApp = await listenTestApp(dialect);
  const seeded = await seed(testApp.storage.db);
  // Five more workspaces in tenant A (seven in all), so that lists span several pages.
  for (const label of ['Alpha', 'Bravo', 'Charlie', 'Delta', 'Echo']) {
    await createWorkspace(testApp.storage.db, seeded.a.tenantId, label, CLI_ACTOR);
  }
  return { baseUrl: testApp.issuer, seeded, close: () => testApp.close() };
}

export type SdkServer = Awaited<ReturnType<typeof startServer>>;

/** A fetch that records every URL and Authorization header it sends, for tests that count requests. */
export function recordingFetch() {
  const calls: { url: string; method: string; authorization: string | undefined }[] = [];
  const fetchImpl: typeof fetch = async (input, init) => {
    const headers = new Headers(init?.headers);
    calls.push({
      url: String(input),
      method: init?.method ?? 'GET',
      authorization: headers.get('authorization') ?? undefined,
    });
    return fetch(input, init);
  };
  return { calls, fetch: fetchImpl };
}
