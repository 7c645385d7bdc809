import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.ts';
import { migrate, openStorage } from '../../src/storage/database.ts';
import { CLI } from '../helpers/cli.ts';
import { eventually, freePort } from '../helpers/http.ts';
import { type Seed, seed } from '../helpers/seed.ts';

/** Starting Node with tsx's loader takes seconds on a busy machine. */
const SLOW_MS = 120_000;
const SECRET = 'shutdown-test-secret-shutdown-test-secret';

/** A real `gatehouse serve` process on a SQLite file, and what it printed. */
interface Server {
  child: ChildProcess;
  port: number;
  output(): string;
  exited: Promise<number | null>;
}

async function startServer(database: string, cwd: string, env: Record<string, string>): Promise<Server> {
  const port = await freePort();
  const child = spawn(process.execPath, [CLI, 'serve'], {
    cwd,
    env: {
      PATH: process.env.PATH ?? '',
      GATEHOUSE_DATABASE_URL: database,
      GATEHOUSE_PORT: String(port),
      GATEHOUSE_SECRET: SECRET,
      GATEHOUSE_LOG_LEVEL: 'info',
      ...env,
    },
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const up = await eventually(
    async () => /Server listening at/.test(output) || child.exitCode !== null,
    90_000,
  );
  if (!up || child.exitCode !== null) throw new Error(`the server did not start:\n${output}`);
  return { child, port, output: () => output, exited };
}

/** Opens a connection and sends the start of a request, leaving the rest of its body unsent. */
async function startRequest(port: number, head: string, body: string, sent: number): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(`${head}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, sent)}`);
  return socket;
}

/** Everything the server sends on `socket` until it closes the connection. */
function answerOf(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('utf8');
    });
    socket.once('close', () => resolve(received));
  });
}

/** Whether a new connection to the port is refused. */
const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });

describe('graceful shutdown of `gatehouse serve` (SIGTERM)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-shutdown-'));
  const database = join(dir, 'gatehouse.db');
  let s: Seed;
  const servers: Server[] = [];
  beforeAll(async () => {
    const storage = openStorage(database);
    await migrate(storage);
    s = await seed(storage.db);
    await storage.close();
  });
  afterAll(async () => {
    for (const server of servers) if (server.child.exitCode === null) server.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  const creation = (label: string) => {
    const head =
      'POST /v1/workspaces HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n' +
      `x-api-key: ${s.adminKeyA.privateKey}\r\n`;
    return { head, body: JSON.stringify({ label }) };
  };

  it(
    'stops accepting, lets the request in flight finish with its answer, writes its usage, exits 0',
    async () => {
      const server = await startServer(database, dir, { GATEHOUSE_SHUTDOWN_TIMEOUT: '10' });
      servers.push(server);
      const { head, body } = creation('Made while stopping');
      // In flight: the server has the request's head and half its body when the signal comes.
      const socket = await startRequest(server.port, head, body, 5);
      const answer = answerOf(socket);
      expect(await eventually(async () => !(await refused(server.port)), 1000)).toBe(true);

      server.child.kill('SIGTERM');
      expect(await eventually(async () => /SIGTERM: stopping/.test(server.output()), 10_000)).toBe(true);
      // No new connection is accepted.
      expect(await eventually(() => refused(server.port), 5000)).toBe(true);

      socket.write(body.slice(5));
      const received = await answer;
      expect(received).toMatch(/^HTTP\/1\.1 201 /);
      expect(received.toLowerCase()).toContain('connection: close');
      expect(received).toContain('"label":"Made while stopping"');

      expect(await server.exited, server.output()).toBe(0);
      expect(server.output()).toMatch(/stopped: every request finished, batched writes flushed/);

      // Written before the exit: the workspace, the key's usage count and its last-used time.
      const storage = openStorage(database, { mustExist: true });
      try {
        const workspace = await storage.db
          .selectFrom('workspaces')
          .select('label')
          .where('label', '=', 'Made while stopping')
          .executeTakeFirst();
        expect(workspace).toBeDefined();
        const usage = await storage.db
          .selectFrom('key_usage')
          .select((eb) => eb.fn.sum<number>('count').as('n'))
          .where('api_key_id', '=', s.adminKeyA.key.id)
          .executeTakeFirstOrThrow();
        expect(Number(usage.n)).toBe(1);
        const key = await storage.db
          .selectFrom('api_keys')
          .select('last_used_at')
          .where('id', '=', s.adminKeyA.key.id)
          .executeTakeFirstOrThrow();
        expect(key.last_used_at).not.toBeNull();
      } finally {
        await storage.close();
      }
    },
    SLOW_MS,
  );

  it(
    'cuts what is still in flight after GATEHOUSE_SHUTDOWN_TIMEOUT, says so, and exits 1',
    async () => {
      const server = await startServer(database, dir, { GATEHOUSE_SHUTDOWN_TIMEOUT: '1' });
      servers.push(server);
      const { head, body } = creation('Never finished');
      const socket = await startRequest(server.port, head, body, 5);
      const answer = answerOf(socket);
      expect(await eventually(async () => !(await refused(server.port)), 1000)).toBe(true);
      const signalled = Date.now();
      server.child.kill('SIGTERM');
      // The rest of the body never comes: the connection is closed by the server, without an answer.
      expect(await answer).toBe('');
      expect(await server.exited, server.output()).toBe(1);
      expect(Date.now() - signalled).toBeLessThan(15_000);
      expect(server.output()).toMatch(/shutdown timeout \(1 s, GATEHOUSE_SHUTDOWN_TIMEOUT\) reached/);
    },
    SLOW_MS,
  );
});

describe('GATEHOUSE_SHUTDOWN_TIMEOUT', () => {
  const base = { GATEHOUSE_SECRET: SECRET, GATEHOUSE_DATABASE_URL: ':memory:' };

  it('is 10 seconds by default and reads whole seconds', () => {
    expect(loadConfig(base).shutdownTimeout).toBe(10);
    expect(loadConfig({ ...base, GATEHOUSE_SHUTDOWN_TIMEOUT: '30' }).shutdownTimeout).toBe(30);
  });

  it.each(['0', '3601', '-1', '2.5', 'soon'])('refuses %s, naming the variable', (value) => {
    expect(() => loadConfig({ ...base, GATEHOUSE_SHUTDOWN_TIMEOUT: value })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, GATEHOUSE_SHUTDOWN_TIMEOUT: value })).toThrow(
      /^GATEHOUSE_SHUTDOWN_TIMEOUT: /,
    );
  });
});
