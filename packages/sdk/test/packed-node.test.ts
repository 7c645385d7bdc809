import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, type IssuedApiKey } from '../../server/src/domain/api-keys.ts';
import { CLI_ACTOR } from '../../server/src/domain/audit.ts';
import { createTenant } from '../../server/src/domain/tenants.ts';
import { type ListeningTestApp, listenTestApp } from '../../server/test/helpers/http.ts';
import { command, installInNewProject, type PackedSdk, packSdk, ROOT, SDK_DIR } from './packed-sdk.ts';
import { type SdkServer, startServer } from './sdk-server.ts';

/** The first ```js block of a markdown file that imports the SDK: the README example. */
function sdkExample(markdown: string): string {
  const block = [...markdown.matchAll(/```js\n([\s\S]*?)```/g)].find((m) =>
    m[1]?.includes("'@gatehouse/sdk'"),
  );
  if (!block?.[1]) throw new Error('no ```js block importing @gatehouse/sdk');
  return block[1];
}

/** Plain JavaScript, as a user writes it: one line of JSON per check. */
const SCRIPT = `
import { Gatehouse, GatehouseError } from '@gatehouse/sdk';

const [baseUrl, publicKey, privateKey] = process.argv.slice(2);
const print = (name, value) => console.log(JSON.stringify({ name, value }));

const withKey = new Gatehouse({ baseUrl, apiKey: privateKey });
print('me', await withKey.me());

const withClient = new Gatehouse({ baseUrl, clientId: publicKey, clientSecret: privateKey });
const page = await withClient.workspaces.list({ size: 2 });
print('page', { count: page.items.length, total: page.total });
const labels = [];
for await (const workspace of withClient.workspaces.all({ size: 2 })) labels.push(workspace.label);
print('all', labels);

const error = await withKey.workspaces.get(999999).catch((e) => e);
print('error', { isGatehouseError: error instanceof GatehouseError, status: error.status, code: error.code });
`;

// Packaging does not depend on the database: SQLite only.
describe('the packed SDK, installed in a clean folder', () => {
  let packed: PackedSdk;
  let project: string;
  let server: SdkServer;
  beforeAll(async () => {
    [packed, server] = await Promise.all([packSdk(), startServer('sqlite')]);
    project = await installInNewProject(packed.tarball, packed.dir);
  }, 180_000);
  afterAll(async () => {
    packed?.cleanup();
    await server?.close();
  });

  const node = async (file: string, args: string[] = [], env: Record<string, string> = {}) =>
    command(process.execPath, [file, ...args], { cwd: project, env });

  it('the tarball holds the build, package.json and README only: no sources, tests or scripts', () => {
    expect(packed.files).toContain('package/package.json');
    expect(packed.files).toContain('package/README.md');
    expect(packed.files).toContain('package/dist/index.js');
    expect(packed.files).toContain('package/dist/index.d.ts');
    const unexpected = packed.files.filter(
      (f) => !/^package\/(package\.json|README\.md|LICENSE|dist\/[\w.-]+\.(js|d\.ts))$/.test(f),
    );
    expect(unexpected).toEqual([]);
  });

  it('installs with no dependency: node_modules holds the SDK alone, at the version it reports', async () => {
    expect(readdirSync(join(project, 'node_modules')).filter((f) => !f.startsWith('.'))).toEqual([
      '@gatehouse',
    ]);
    const installed = join(project, 'node_modules/@gatehouse/sdk');
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
    expect(manifest.dependencies).toBeUndefined();
    const { SDK_VERSION } = await import(join(installed, 'dist/index.js'));
    expect(SDK_VERSION).toBe(manifest.version);
  });

  it('a plain .mjs script imports it and calls the server: API key, client credentials, the pager, an error', async () => {
    writeFileSync(join(project, 'check.mjs'), SCRIPT);
    const { orgKeyA, a } = server.seeded;
    const { stdout } = await node('check.mjs', [server.baseUrl, orgKeyA.key.publicKey, orgKeyA.privateKey]);
    const lines = Object.fromEntries(
      stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line))
        .map(({ name, value }) => [name, value]),
    );
    expect(lines.me).toMatchObject({
      authMethod: 'apiKey',
      tenantId: a.tenantId,
      apiKey: { label: 'A org key' },
    });
    expect(lines.page).toEqual({ count: 2, total: 7 });
    expect(lines.all).toHaveLength(7);
    expect(lines.all).toEqual(expect.arrayContaining(['Main', 'Second', 'Alpha', 'Echo']));
    expect(lines.error).toEqual({ isGatehouseError: true, status: 404, code: 'not_found' });
  });

  it.runIf(process.features.require_module)(
    'require() loads it too, where Node can require ES modules',
    async () => {
      writeFileSync(
        join(project, 'check.cjs'),
        "const { Gatehouse, GatehouseError } = require('@gatehouse/sdk');\n" +
          'console.log(typeof Gatehouse, typeof GatehouseError);\n',
      );
      const { stdout } = await node('check.cjs');
      expect(stdout.trim()).toBe('function function');
    },
  );

  it('TypeScript finds its declarations: a consumer type-checks, and wrong uses are errors', async () => {
    writeFileSync(
      join(project, 'check.ts'),
      [
        "import { Gatehouse, GatehouseError, type Workspace } from '@gatehouse/sdk';",
        "const gatehouse = new Gatehouse({ baseUrl: 'http://127.0.0.1:8080', apiKey: 'gsk_x' });",
        'const first: Workspace | undefined = (await gatehouse.workspaces.list({ size: 1 })).items[0];',
        'const label: string | undefined = first?.label;',
        '// @ts-expect-error: a label is not a number',
        'const wrong: number | undefined = first?.label;',
        '// @ts-expect-error: size is a number',
        "await gatehouse.workspaces.list({ size: '1' });",
        'const error = new GatehouseError({ status: 429, code: "rate_limited", retryAfter: 3 });',
        'export { label, wrong, error };',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          lib: ['ES2022', 'DOM'],
          types: [],
        },
        files: ['check.ts'],
      }),
    );
    await expect(
      command(join(ROOT, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], { cwd: project }),
    ).resolves.toBeDefined();
    // Declarations import each other as `.js`, as older TypeScript and declaration tools expect.
    const dist = join(project, 'node_modules/@gatehouse/sdk/dist');
    const declarations = readdirSync(dist).filter((f) => f.endsWith('.d.ts'));
    const tsImports = declarations.filter((f) =>
      /from '\.\/[^']+\.ts'/.test(readFileSync(join(dist, f), 'utf8')),
    );
    expect(tsImports).toEqual([]);
  });

  describe('the README example, run as written on a fresh server', () => {
    let fresh: ListeningTestApp;
    let key: IssuedApiKey;
    beforeAll(async () => {
      fresh = await listenTestApp('sqlite');
      // What the walkthrough's `gatehouse init` and `gatehouse keys create` do.
      const db = fresh.app.services.db;
      const input = {
        label: 'My data company',
        ownerEmail: 'you@example.com',
        ownerPassword: 'a long passphrase',
        workspace: 'Main',
      };
      const tenant = await createTenant(db, input, CLI_ACTOR);
      key = await createApiKey(db, { tenantId: tenant.tenantId, label: 'My first key' }, CLI_ACTOR);
      writeFileSync(
        join(project, 'example.mjs'),
        sdkExample(readFileSync(join(SDK_DIR, 'README.md'), 'utf8')),
      );
    });
    afterAll(() => fresh?.close());

    const env = (privateKey: string) => ({
      GATEHOUSE_URL: fresh.issuer,
      GATEHOUSE_PUBLIC_KEY: key.key.publicKey,
      GATEHOUSE_PRIVATE_KEY: privateKey,
    });

    it('lists the workspaces', async () => {
      const { stdout, stderr } = await node('example.mjs', [], env(key.privateKey));
      expect(stdout.trim().split('\n').at(-1)).toMatch(/^\d+ Main$/);
      expect(stderr).toBe('');
    });

    it('prints the GatehouseError of a wrong secret: status, code and detail', async () => {
      const { stdout, stderr } = await node('example.mjs', [], env(`${key.privateKey.slice(0, -1)}x`));
      expect(stdout).toBe('');
      expect(stderr.trim()).toMatch(/^401 invalid_client \S/);
    });

    it('is the SDK example of the repository README too', () => {
      const packageExample = sdkExample(readFileSync(join(SDK_DIR, 'README.md'), 'utf8'));
      expect(sdkExample(readFileSync(join(ROOT, 'README.md'), 'utf8'))).toBe(packageExample);
    });
  });
});
