import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import { type DialectName, POSTGRES_URL } from './test-app.ts';

/** The `gatehouse` command as users run it: the sources through tsx's loader (seconds to start). */
export const CLI_BIN = resolve(import.meta.dirname, '../../bin/gatehouse.js');

/**
 * The same command bundled from this run's sources, as `npm start` runs it (global setup:
 * cli-bundle-setup.ts): what the tests start, a fraction of a second each instead of seconds. Without
 * the global setup (another config), {@link CLI_BIN}. cli-help.test.ts runs {@link CLI_BIN} itself.
 */
export const CLI: string = inject('gatehouseCliBundle') ?? CLI_BIN;

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** A fresh database for the CLI: a SQLite file in a temporary directory, or a new PostgreSQL database. */
export async function freshDatabase(
  dialect: DialectName,
): Promise<{ url: string; drop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-'));
  if (dialect === 'sqlite') {
    return {
      url: join(dir, 'gatehouse.db'),
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const server = POSTGRES_URL;
  if (!server) throw new Error('no PostgreSQL for the tests (see describeEachDialect)');
  const name = `gatehouse_cli_${randomBytes(6).toString('hex')}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: server });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    drop: async () => {
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Runs the CLI as a user would, with a clean environment: `PATH`, a silent log, and only what the test
 * sets (which must include `GATEHOUSE_SECRET` where the command needs one). Never rejects: a failing
 * command is a result with its exit code.
 */
export function runCli(args: string[], env: Record<string, string>, cwd: string): Promise<CliRun> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { cwd, env: { PATH: process.env.PATH ?? '', GATEHOUSE_LOG_LEVEL: 'silent', ...env } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

/** The one JSON object a `--json` run printed. */
export const cliJson = (run: CliRun) => JSON.parse(run.stdout);

/**
 * The error a failed `--json` run reported: the last line of stderr, `{"error": {code, message}}` (the
 * lines before it say which database). Its stdout must be empty: stdout only ever holds results.
 */
export function cliError(run: CliRun): { code: string; message: string } {
  if (run.stdout !== '') throw new Error(`a failed run printed on stdout: ${run.stdout}`);
  const last = run.stderr.trimEnd().split('\n').at(-1) ?? '';
  return JSON.parse(last).error;
}
