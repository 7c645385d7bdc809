import { runLoad } from './load.ts';

export interface Credentials {
  publicKey: string;
  privateKey: string;
}

export const TOKEN_BODY = 'grant_type=client_credentials&scope=api1';
export const FORM = 'application/x-www-form-urlencoded';

/** RFC 6749 2.3.1: client_id and secret are form-urlencoded, then joined by ':' and base64-encoded. */
export function basicHeader(client: Credentials): string {
  const pair = `${encodeURIComponent(client.publicKey)}:${encodeURIComponent(client.privateKey)}`;
  return `Basic ${Buffer.from(pair).toString('base64')}`;
}

/** Headers of a client_credentials request for `client`. */
export function tokenHeaders(client: Credentials): Record<string, string> {
  return { authorization: basicHeader(client), 'content-type': FORM };
}

/** One access token, or the reason there is none (the endpoint may not exist yet). */
export async function fetchToken(
  origin: string,
  client: Credentials,
): Promise<{ token: string } | { error: string }> {
  try {
    const response = await fetch(`${origin}/connect/token`, {
      method: 'POST',
      headers: tokenHeaders(client),
      body: TOKEN_BODY,
    });
    const body = (await response.json().catch(() => ({}))) as { access_token?: unknown; error?: unknown };
    if (response.ok && typeof body.access_token === 'string') return { token: body.access_token };
    return { error: `POST /connect/token answered ${response.status} ${String(body.error ?? '')}`.trim() };
  } catch (error) {
    return { error: `POST /connect/token failed: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** Answers 200 on `GET /me` with this bearer token? (bearer verification may not be wired yet). */
export async function bearerAccepted(origin: string, token: string): Promise<boolean> {
  const response = await fetch(`${origin}/me`, { headers: { authorization: `Bearer ${token}` } });
  await response.arrayBuffer();
  return response.ok;
}

/**
 * Mints `count` distinct access tokens through the token endpoint itself, before any timed round:
 * row 3 then presents each exactly once. Each token has its own `jti`, so none is a cache hit.
 */
export async function mintTokens(
  origin: string,
  client: Credentials,
  count: number,
  connections: number,
): Promise<string[]> {
  const tokens = new Set<string>();
  // A few requests can fail under load; top up until there are enough.
  for (let attempt = 0; attempt < 5 && tokens.size < count; attempt++) {
    await runLoad(
      {
        origin,
        method: 'POST',
        path: '/connect/token',
        headers: tokenHeaders(client),
        body: TOKEN_BODY,
        amount: count - tokens.size,
        onBody: (status, body) => {
          if (status !== 200) return;
          const token = (JSON.parse(body) as { access_token?: string }).access_token;
          if (token) tokens.add(token);
        },
      },
      { connections, pipelining: 1, duration: 0 },
    );
  }
  if (tokens.size < count) throw new Error(`minted only ${tokens.size} of ${count} tokens`);
  return [...tokens];
}
