import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAS_CHROMIUM, launchChromium, SKIP_REASON } from '../../server/test/helpers/console-browser.ts';
import { Gatehouse } from '../src/index.ts';
import { installInNewProject, type PackedSdk, packSdk } from './packed-sdk.ts';
import { type SdkServer, startServer } from './sdk-server.ts';

/** A browser app's code: what it does with the SDK, run in the page by the test. */
const ENTRY = `
import { Gatehouse, GatehouseError, OAuthClient } from '@gatehouse/sdk';

window.sdkCheck = async ({ baseUrl, publicKey, privateKey }) => {
  const withKey = new Gatehouse({ baseUrl, apiKey: privateKey });
  const me = await withKey.me();
  const withClient = new Gatehouse({ baseUrl, clientId: publicKey, clientSecret: privateKey });
  const labels = [];
  for await (const workspace of withClient.workspaces.all({ size: 3 })) labels.push(workspace.label);
  const error = await withKey.workspaces.get(999999).catch((e) => e);
  const oauth = new OAuthClient({ baseUrl, clientId: publicKey });
  const request = await oauth.createAuthorizationRequest({ redirectUri: 'https://app.example/callback' });
  return {
    me,
    labels,
    error: { isGatehouseError: error instanceof GatehouseError, status: error.status, code: error.code, requestId: error.requestId },
    request,
  };
};

window.sdkMe = async ({ baseUrl, privateKey }) => {
  try {
    return await new Gatehouse({ baseUrl, apiKey: privateKey }).me();
  } catch (error) {
    return { isGatehouseError: error instanceof GatehouseError, status: error.status, code: error.code };
  }
};
`;

/** Serves the app's page and its bundle; answers on two origins (localhost and 127.0.0.1). */
async function pageServer(bundle: string): Promise<{ server: Server; port: number }> {
  const server = createServer((request, response) => {
    if (request.url === '/app.js') {
      response.writeHead(200, { 'content-type': 'text/javascript' });
      response.end(bundle);
      return;
    }
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end('<!doctype html><title>SDK app</title><script src="/app.js"></script>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

describe.runIf(HAS_CHROMIUM)(`the packed SDK bundled by esbuild, in Chromium${SKIP_REASON}`, () => {
  let packed: PackedSdk;
  let server: SdkServer;
  let app: Awaited<ReturnType<typeof pageServer>>;
  let browser: Browser;
  let page: Page;
  let bundle: string;
  let client: { baseUrl: string; publicKey: string; privateKey: string };

  beforeAll(async () => {
    [packed, server, browser] = await Promise.all([packSdk(), startServer('sqlite'), launchChromium()]);
    const project = await installInNewProject(packed.tarball, packed.dir);
    writeFileSync(join(project, 'app.js'), ENTRY);
    // The browser platform: a Node built-in anywhere in the SDK would fail the build.
    const output = await build({
      entryPoints: [join(project, 'app.js')],
      absWorkingDir: project,
      bundle: true,
      format: 'iife',
      platform: 'browser',
      target: 'es2022',
      write: false,
      logLevel: 'silent',
    });
    bundle = output.outputFiles[0]?.text ?? '';
    app = await pageServer(bundle);
    // An admin registers the page's origin on a key, through the admin API (which also lets the
    // server's preflight cache know of it at once).
    const admin = new Gatehouse({ baseUrl: server.baseUrl, apiKey: server.seeded.adminKeyA.privateKey });
    const issued = await admin.apiKeys.create({
      label: 'Browser app',
      corsOrigins: [`http://localhost:${app.port}`],
    });
    // A confidential key (the default) has a private key; only a public client's is null.
    if (issued.privateKey === null) throw new Error('a confidential key was issued without a private key');
    client = { baseUrl: server.baseUrl, publicKey: issued.publicKey, privateKey: issued.privateKey };
    page = await browser.newPage();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    app?.server.close();
    await server?.close();
    packed?.cleanup();
  });

  it('bundles small: no dependency comes along', () => {
    expect(bundle.length).toBeLessThan(40_000);
    expect(bundle).not.toMatch(/require\(["']node:/);
  });

  it('a page of an allowed origin calls the server: API key, client credentials, the pager, a GatehouseError', async () => {
    await page.goto(`http://localhost:${app.port}/`);
    // A string, evaluated in the page: the function exists only there.
    const result = (await page.evaluate(`sdkCheck(${JSON.stringify(client)})`)) as {
      me: { authMethod: string; apiKey: { label: string } };
      labels: string[];
      error: Record<string, unknown>;
      request: { url: string; state: string; codeVerifier: string };
    };
    expect(result.me).toMatchObject({ authMethod: 'apiKey', apiKey: { label: 'Browser app' } });
    expect(result.labels).toHaveLength(7);
    expect(result.error).toEqual({
      isGatehouseError: true,
      status: 404,
      code: 'not_found',
      requestId: expect.any(String),
    });
    // Web Crypto's S256, checked with Node's.
    const challenge = new URL(result.request.url).searchParams.get('code_challenge');
    expect(challenge).toBe(createHash('sha256').update(result.request.codeVerifier).digest('base64url'));
  });

  it('from an origin the key does not allow, the browser withholds the answer: a network_error', async () => {
    await page.goto(`http://127.0.0.1:${app.port}/`);
    const result = await page.evaluate(`sdkMe(${JSON.stringify(client)})`);
    expect(result).toEqual({ isGatehouseError: true, status: 0, code: 'network_error' });
  });
});
