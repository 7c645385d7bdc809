import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorFromResponse, retryAfterSeconds } from '../src/errors.ts';
import { Gatehouse, GatehouseError } from '../src/index.ts';
import { type SdkServer, startServer } from './sdk-server.ts';

// Rate limits are counted the same on both databases (in memory, or Redis): SQLite is enough here.
describe('GatehouseError on a rate-limited server (GATEHOUSE_RATE_LIMIT=2)', () => {
  let server: SdkServer;
  beforeAll(async () => {
    server = await startServer('sqlite', { GATEHOUSE_RATE_LIMIT: '2' });
  });
  afterAll(() => server.close());

  it('a 429 from the API is rate_limited with status, detail, requestId and retryAfter in seconds', async () => {
    const sdk = new Gatehouse({ baseUrl: server.baseUrl, apiKey: server.seeded.orgKeyA.privateKey });
    await sdk.me();
    await sdk.me();
    const error = await sdk.me().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatehouseError);
    expect(error).toMatchObject({
      name: 'GatehouseError',
      status: 429,
      code: 'rate_limited',
      detail: expect.stringMatching(/too many requests/),
      requestId: expect.any(String),
    });
    const { retryAfter } = error as GatehouseError;
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
  });

  it('a 429 from the token endpoint carries the OAuth error and retryAfter too', async () => {
    const { key, privateKey } = server.seeded.workspaceKeyA;
    const clientOf = () =>
      new Gatehouse({ baseUrl: server.baseUrl, clientId: key.publicKey, clientSecret: privateKey });
    // Each client fetches its own token: the third token request is over the client's budget.
    await clientOf().me();
    await clientOf().me();
    const error = await clientOf()
      .me()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      status: 429,
      code: 'rate_limited',
      error: 'rate_limited',
      retryAfter: expect.any(Number),
    });
  });
});

describe('errorFromResponse', () => {
  it('reads an RFC 9457 problem', async () => {
    const problem = {
      type: 'urn:gatehouse:problem:not_found',
      title: 'Not found',
      status: 404,
      detail: 'no workspace 9',
      code: 'not_found',
      requestId: 'req-1',
    };
    const error = await errorFromResponse(
      new Response(JSON.stringify(problem), {
        status: 404,
        headers: { 'content-type': 'application/problem+json' },
      }),
    );
    expect(error).toMatchObject({ ...problem, message: 'no workspace 9', retryAfter: undefined });
  });

  it('reads an answer that is not JSON as http_error with its status', async () => {
    const error = await errorFromResponse(new Response('<html>Bad gateway</html>', { status: 502 }));
    expect(error).toMatchObject({
      status: 502,
      code: 'http_error',
      detail: undefined,
      message: 'http_error (HTTP 502)',
    });
  });

  it('reads Retry-After as seconds or as an HTTP date (RFC 9110 10.2.3)', () => {
    expect(retryAfterSeconds('17')).toBe(17);
    expect(
      retryAfterSeconds(new Date(Date.UTC(2030, 0, 1, 0, 0, 30)).toUTCString(), Date.UTC(2030, 0, 1)),
    ).toBe(30);
    expect(retryAfterSeconds('soon')).toBeUndefined();
    expect(retryAfterSeconds(null)).toBeUndefined();
  });
});
