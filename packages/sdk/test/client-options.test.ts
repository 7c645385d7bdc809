import { describe, expect, it } from 'vitest';
import { Gatehouse, type GatehouseOptions, OAuthClient } from '../src/index.ts';

/** Options as plain JavaScript may pass them: an unset environment variable is `undefined`. */
const untyped = (options: Record<string, unknown>) => options as unknown as GatehouseOptions;

describe('Gatehouse options', () => {
  it('a missing baseUrl, key or secret is a TypeError naming the option, at construction', () => {
    const baseUrl = 'http://127.0.0.1:8080';
    expect(() => new Gatehouse(untyped({ baseUrl: undefined, apiKey: 'gsk_x' }))).toThrow(
      /Gatehouse: baseUrl is required/,
    );
    expect(() => new Gatehouse(untyped({ baseUrl, apiKey: undefined }))).toThrow(
      /Gatehouse: apiKey is required/,
    );
    expect(() => new Gatehouse(untyped({ baseUrl, clientId: undefined, clientSecret: 'gsk_x' }))).toThrow(
      /Gatehouse: clientId is required/,
    );
    expect(() => new Gatehouse(untyped({ baseUrl, clientId: 'gpk_x', clientSecret: '' }))).toThrow(
      /Gatehouse: clientSecret is required/,
    );
    expect(() => new OAuthClient(untyped({ baseUrl, clientId: '' }) as never)).toThrow(
      /clientId is required/,
    );
  });

  it('keeps a path prefix of the base URL and drops trailing slashes', async () => {
    const urls: string[] = [];
    const sdk = new Gatehouse({
      baseUrl: 'https://example.com/gatehouse//',
      apiKey: 'gsk_x',
      fetch: async (input) => {
        urls.push(String(input));
        return new Response(JSON.stringify({ items: [], total: 0 }));
      },
    });
    await sdk.workspaces.list({ page: 2, size: 10, q: 'a b' });
    expect(urls).toEqual(['https://example.com/gatehouse/v1/workspaces?page=2&size=10&q=a+b']);
  });

  it('sends the API key as X-API-Key, JSON bodies as JSON, and nothing in the URL', async () => {
    const sent: { url: string; init: RequestInit | undefined }[] = [];
    const sdk = new Gatehouse({
      baseUrl: 'https://example.com',
      apiKey: 'gsk_secret',
      fetch: async (input, init) => {
        sent.push({ url: String(input), init });
        return new Response(JSON.stringify({ id: 1 }), { status: 201 });
      },
    });
    await sdk.entities.create(4, { name: 'Acme' });
    const headers = new Headers(sent[0]?.init?.headers);
    expect(headers.get('x-api-key')).toBe('gsk_secret');
    expect(headers.get('content-type')).toBe('application/json');
    expect(sent[0]?.init?.body).toBe('{"name":"Acme"}');
    expect(sent[0]?.url).not.toContain('gsk_secret');
  });
});
