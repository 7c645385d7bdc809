import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultDatabasePath } from '../src/config/config.ts';
import { migrations } from '../src/storage/migrations/index.ts';
import { type CliRun, cliError, cliJson, runCli } from './helpers/cli.ts';
import { wait } from './helpers/http.ts';

const SECRET = 'cli-database-test-secret-cli-database-test';
const REPOSITORY = resolve(import.meta.dirname, '../../..');
const MIGRATIONS = Object.keys(migrations);
/** Spawning Node and tsx takes seconds each on a busy machine. */
const SLOW_MS = 120_000;

const lines = (text: string) => text.trimEnd().split('\n');

/**
 * Issue 12, CLI: which database a command uses. It says so on stderr; only `init`, `migrate` and
 * `serve` create one; the default is the repository's data folder wherever the command runs, the same
 * file as `npm start`'s. SQLite only: what is checked is files and messages, not SQL.
 */
describe('gatehouse CLI: the database it uses', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'gatehouse-cli-db-cwd-'));
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-db-'));
  const missing = join(dir, 'not-here', 'gatehouse.db');
  const cli = (args: string[], env: Record<string, string> = {}) =>
    runCli(args, { GATEHOUSE_SECRET: SECRET, GATEHOUSE_DATABASE_URL: missing, ...env }, cwd);
  afterAll(() => {
    rmSync(cwd, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  // Every run on a missing or unreachable database at once: each is a process of its own.
  let onMissing: Record<'tenants' | 'keyShow' | 'audit' | 'keyCreate' | 'workspaces', CliRun>;
  let initWithoutPassword: CliRun;
  let postgres: CliRun;
  beforeAll(async () => {
    const [tenants, keyShow, audit, keyCreate, workspaces, init, pg] = await Promise.all([
      cli(['tenants', 'list']),
      cli(['keys', 'show', 'gpk_000000000000000000000000']),
      cli(['audit', 'list', '--tenant', '1', '--json']),
      cli(['keys', 'create', '--tenant', '1']),
      cli(['workspaces', 'list', '--tenant', '1', '--json']),
      cli(['init', '--email', 'owner@example.com', '--organization', 'Org']),
      cli(['tenants', 'list'], {
        GATEHOUSE_DATABASE_URL: 'postgres://gatehouse:pw-s3cret@127.0.0.1:1/gatehouse',
      }),
    ]);
    onMissing = { tenants, keyShow, audit, keyCreate, workspaces };
    initWithoutPassword = init;
    postgres = pg;
  }, SLOW_MS);

  it('a command other than init, migrate and serve, on a database file that does not exist, exits 1 naming it and creates nothing', () => {
    for (const [name, run] of Object.entries(onMissing)) {
      expect(run.code, name).toBe(1);
      expect(run.stdout, name).toBe('');
      const [first, second] = lines(run.stderr);
      expect(first, name).toBe(`gatehouse: database ${missing}`);
      if (name === 'audit' || name === 'workspaces') {
        expect(cliError(run)).toEqual({
          code: 'database_missing',
          message: expect.stringContaining(missing),
        });
      } else {
        expect(second, name).toBe(
          `gatehouse: no database at ${missing}: create it with gatehouse init, or set GATEHOUSE_DATABASE_URL to the database to use`,
        );
      }
    }
    expect(existsSync(join(dir, 'not-here'))).toBe(false);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('init without --password and without a terminal to ask on exits 2 saying how to give one, and creates nothing', () => {
    expect(initWithoutPassword.code).toBe(2);
    expect(lines(initWithoutPassword.stderr)).toEqual([
      'gatehouse: the owner needs a password: pass --password P or set GATEHOUSE_INIT_PASSWORD, or run the command in a terminal to be asked for it',
    ]);
    expect(existsSync(join(dir, 'not-here'))).toBe(false);
  });

  it('an unreachable PostgreSQL exits 1, named with its password redacted', () => {
    expect(postgres.code).toBe(1);
    const [first, second] = lines(postgres.stderr);
    expect(first).toBe('gatehouse: database postgres://gatehouse:***@127.0.0.1:1/gatehouse');
    expect(second).toMatch(
      /^gatehouse: cannot open the database postgres:\/\/gatehouse:\*\*\*@127\.0\.0\.1:1\/gatehouse: .*ECONNREFUSED/,
    );
    expect(postgres.stderr).not.toContain('pw-s3cret');
  });

  it(
    'migrate creates the database and says so on stderr; run again it has nothing to do; --quiet silences stderr',
    async () => {
      const database = join(dir, 'migrated', 'gatehouse.db');
      const env = { GATEHOUSE_DATABASE_URL: database };
      const first = await cli(['migrate'], env);
      expect(first.code, first.stderr).toBe(0);
      expect(lines(first.stderr)).toEqual([
        `gatehouse: database ${database}`,
        `gatehouse: migrating database (${MIGRATIONS.length} migrations)…`,
        'gatehouse: migrations done',
      ]);
      expect(first.stdout).toBe(`Applied: ${MIGRATIONS.join(', ')}\n`);
      writeFileSync(join(dir, 'empty.db'), '');
      const [again, quiet, list, empty] = await Promise.all([
        cli(['migrate'], env),
        cli(['migrate', '--quiet', '--json'], env),
        cli(['tenants', 'list'], env),
        cli(['tenants', 'list', '--json'], { GATEHOUSE_DATABASE_URL: join(dir, 'empty.db') }),
      ]);
      expect([again.code, again.stdout, again.stderr]).toEqual([
        0,
        'The database is up to date.\n',
        `gatehouse: database ${database}\n`,
      ]);
      expect([quiet.code, cliJson(quiet), quiet.stderr]).toEqual([0, { applied: [] }, '']);
      expect([list.code, list.stdout]).toEqual([
        0,
        'No organization yet: create the first with gatehouse init.\n',
      ]);
      // An existing file that holds no Gatehouse tables is not taken for one.
      expect(empty.code).toBe(1);
      expect(cliError(empty)).toEqual({
        code: 'database_empty',
        message: `${join(dir, 'empty.db')} is not a Gatehouse database yet (no tables): create one with gatehouse init`,
      });
    },
    SLOW_MS,
  );

  it(
    "the default database is the repository's data/gatehouse.db wherever the command runs, the file npm start's bundle uses",
    async () => {
      const expected = join(REPOSITORY, 'data', 'gatehouse.db');
      expect(defaultDatabasePath()).toBe(expected);
      const existed = existsSync(expected);
      // `npm start` runs the esbuild bundle in packages/server/dist/: built here the same way, beside it.
      const bundleDir = join(REPOSITORY, 'packages/server', `.test-bundle-${randomBytes(4).toString('hex')}`);
      mkdirSync(bundleDir);
      try {
        await build({
          entryPoints: [join(REPOSITORY, 'packages/server/src/cli/main.ts')],
          outfile: join(bundleDir, 'gatehouse.mjs'),
          bundle: true,
          platform: 'node',
          format: 'esm',
          packages: 'external',
          logLevel: 'silent',
        });
        // As the build script does: files the code reads beside itself.
        cpSync(join(REPOSITORY, 'packages/server/src/console/static'), join(bundleDir, 'static'), {
          recursive: true,
        });
        const plain = { GATEHOUSE_SECRET: SECRET };
        const [help, bundled, list] = await Promise.all([
          runCli(['--help'], plain, cwd),
          new Promise<string>((done, fail) =>
            execFile(
              process.execPath,
              [join(bundleDir, 'gatehouse.mjs'), '--help'],
              { cwd },
              (error, stdout) => (error ? fail(error) : done(stdout)),
            ),
          ),
          // What the report was about: a command run in another folder must not start a database there.
          runCli(['tenants', 'list'], plain, cwd),
        ]);
        const databaseLine = (text: string) => text.split('\n').find((l) => l.startsWith('database: '));
        expect(databaseLine(help.stdout)).toBe(
          `database: GATEHOUSE_DATABASE_URL (a SQLite file or a postgres:// URL), else ${expected}`,
        );
        expect(databaseLine(bundled)).toBe(databaseLine(help.stdout));
        expect(lines(list.stderr)[0]).toBe(`gatehouse: database ${expected}`);
        expect(readdirSync(cwd)).toEqual([]);
        expect(existsSync(expected)).toBe(existed);
      } finally {
        rmSync(bundleDir, { recursive: true, force: true });
      }
    },
    SLOW_MS,
  );
});

const hasScript = spawnSync('script', ['--version']).status === 0;

/** The environment of a user's shell: this one without any Gatehouse setting, and a POSIX shell for `script`. */
function userEnv(): Record<string, string> {
  const env: Record<string, string> = { SHELL: '/bin/sh' };
  for (const [name, value] of Object.entries(process.env))
    if (value !== undefined && !name.startsWith('GATEHOUSE_')) env[name] = value;
  return env;
}

/**
 * Runs a shell command line in a pseudo-terminal (util-linux `script`), typing `answer` at each password
 * question it asks, as a person would.
 */
function inTerminal(line: string, answer: string): Promise<{ code: number | null; output: string }> {
  const child = spawn('script', ['-qefc', line, '/dev/null'], { cwd: REPOSITORY, env: userEnv() });
  let output = '';
  let answered = 0;
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
    const asked = (output.match(/Password for [^\n]*: |Repeat it: /g) ?? []).length;
    // Typed only once asked: the terminal would echo what arrives before readline hides it.
    for (; answered < asked; answered++) child.stdin.write(`${answer}\r`);
  });
  return new Promise((done) => child.on('exit', (code) => done({ code, output })));
}

describe("gatehouse serve's first-start hint", () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-hint-'));
  const database = join(dir, 'gatehouse.db');
  let server: ChildProcess | undefined;
  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((done) => server?.once('exit', done));
      server.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(!hasScript)(
    'prints commands that work as printed: init (then users create) asks for the password, hidden, at the terminal; the key it makes works',
    async () => {
      // No GATEHOUSE_SECRET: server and CLI share the development secret beside the database.
      server = spawn(process.execPath, [resolve(REPOSITORY, 'packages/server/bin/gatehouse.js'), 'serve'], {
        cwd: dir,
        env: { ...userEnv(), GATEHOUSE_DATABASE_URL: database, GATEHOUSE_PORT: '0' },
      });
      let stdout = '';
      let stderr = '';
      server.stdout?.on('data', (chunk: Buffer) => {
        stdout += chunk.toString('utf8');
      });
      server.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString('utf8');
      });
      for (let i = 0; i < 400 && !/keys create/.test(stderr); i++) await wait(50);
      const base = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)?.[1];
      expect(base, `${stdout}\n${stderr}`).toBeDefined();
      const commands = lines(stderr)
        .filter((l) => l.includes('npx gatehouse'))
        .map((l) => l.trim());
      expect(commands).toEqual([
        `GATEHOUSE_DATABASE_URL=${database} npx gatehouse init --email you@example.com --organization 'My company'`,
        `GATEHOUSE_DATABASE_URL=${database} npx gatehouse keys create --tenant 1 --label 'My first key'`,
      ]);
      const password = 'correct horse battery staple';
      const init = await inTerminal(commands[0] as string, password);
      expect(init.code, init.output).toBe(0);
      expect(init.output).toMatch(/Organization 1 created, owner user 1, workspace 1\./);
      // Asked twice, shown never.
      expect(init.output.match(/Password for you@example\.com: |Repeat it: /g)).toHaveLength(2);
      expect(init.output).not.toContain(password);
      const key = await new Promise<string>((done, fail) =>
        execFile('sh', ['-c', commands[1] as string], { cwd: REPOSITORY, env: userEnv() }, (error, out) =>
          error ? fail(error) : done(out),
        ),
      );
      const privateKey = /private key \(secret\):\s+(gsk_\S+)/.exec(key)?.[1];
      const me = await fetch(`${base}/me`, { headers: { 'x-api-key': privateKey ?? '' } });
      expect(me.status).toBe(200);
      expect(await me.json()).toMatchObject({ tenantId: 1 });
      // users create asks too (for a new account), and then prints no sign-in link.
      const bin = resolve(REPOSITORY, 'packages/server/bin/gatehouse.js');
      const user = await inTerminal(
        `GATEHOUSE_DATABASE_URL=${database} node ${bin} users create --tenant 1 --email ada@example.com --role member`,
        password,
      );
      expect(user.code, user.output).toBe(0);
      expect(user.output).toMatch(/User 2 <ada@example\.com> created as member of organization 1\./);
      expect(user.output).not.toMatch(/sign-in link \(/);
      expect(user.output).not.toContain(password);
    },
    SLOW_MS,
  );
});
