import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage } from '../../src/storage/database.ts';
import { CLI } from '../helpers/cli.ts';
import { eventually, freePort } from '../helpers/http.ts';
import { createScaleOutDatabase, type ScaleOutDatabase, seedDatabase } from '../helpers/instances.ts';
import { type Seed, seed } from '../helpers/seed.ts';
import { describeEachDialect } from '../helpers/test-app.ts';

/** Three processes start under tsx's loader on a busy machine (the primary, then two workers). */
const SLOW_MS = 240_000;
const START_MS = 120_000;
/** Generous bounds on what settles asynchronously: a failure, never a measurement. */
const SETTLE_MS = 20_000;
const SECRET = 'workers-test-secret-workers-test-secret';

/** One JSON log line, as pino (the workers) and the primary (src/cli/cluster.ts) write them. */
interface LogLine {
  pid: number;
  msg: string;
  level: number;
  workerPid?: number;
  route?: string;
  status?: number;
}

/** A `gatehouse serve` primary and its workers, with every line they wrote. */
interface Cluster {
  child: ChildProcess;
  port: number;
  /** Every JSON line on stdout so far (the primary's and the workers': they share it). */
  lines(): LogLine[];
  stderr(): string;
  /** The workers serving now, by pid, as the primary's lines tell. */
  workerPids(): number[];
  exited: Promise<number | null>;
}

function startCluster(env: Record<string, string>, port: number): Cluster {
  const child = spawn(process.execPath, [CLI, 'serve'], {
    env: { PATH: process.env.PATH ?? '', ...env, GATEHOUSE_HOST: '127.0.0.1', GATEHOUSE_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  let partial = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const text = partial + chunk.toString('utf8');
    const complete = text.split('\n');
    partial = complete.pop() ?? '';
    for (const line of complete) {
      try {
        // The test reads what the processes wrote: each complete line is one JSON object.
        lines.push(JSON.parse(line) as LogLine);
      } catch {
        // Not a log line (none is expected on stdout; the assertions say what is missing if one was).
      }
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const primaryLines = () => lines.filter((l) => l.pid === child.pid && l.workerPid !== undefined);
  return {
    child,
    port,
    lines: () => lines,
    stderr: () => stderr,
    workerPids() {
      const serving = new Set<number>();
      for (const line of primaryLines()) {
        if (/ serving on /.test(line.msg)) serving.add(line.workerPid as number);
        else serving.delete(line.workerPid as number);
      }
      return [...serving];
    },
    exited,
  };
}

/** Waits until `count` workers serve and the port answers; throws with the output otherwise. */
async function untilServing(cluster: Cluster, count: number): Promise<void> {
  const up = await eventually(async () => {
    if (cluster.child.exitCode !== null) return true;
    if (cluster.workerPids().length < count) return false;
    return (await get(cluster.port, '/healthz').catch(() => null))?.status === 200;
  }, START_MS);
  if (!up || cluster.child.exitCode !== null) {
    throw new Error(`the cluster did not start:\n${cluster.stderr()}\n${JSON.stringify(cluster.lines())}`);
  }
}

/**
 * One request on a connection of its own (no keep-alive agent): the primary hands each new connection
 * to the next worker, so that consecutive requests reach every worker.
 */
function send(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: unknown,
): Promise<{ status: number; text: string }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const sent = payload === undefined ? headers : { ...headers, 'content-type': 'application/json' };
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: sent, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

const get = (port: number, path: string, headers: Record<string, string> = {}) =>
  send(port, 'GET', path, headers);

/** The pids whose access-log lines (from `since` on) answered `route` with `status`. */
function answeredBy(cluster: Cluster, route: string, status: number, since = 0): Set<number> {
  const lines = cluster.lines().slice(since);
  return new Set(
    lines
      .filter((l) => l.msg === 'request completed' && l.route === route && l.status === status)
      .map((l) => l.pid),
  );
}

/** Whether a process with this pid exists (signal 0 checks without sending anything). */
function exists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describeEachDialect('GATEHOUSE_WORKERS=2: two worker processes on one port', (dialect) => {
  let dir: string;
  let database: ScaleOutDatabase | undefined;
  let s: Seed;
  let cluster: Cluster;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-workers-'));
    const port = await freePort();
    const env: Record<string, string> = {
      GATEHOUSE_WORKERS: '2',
      GATEHOUSE_SECRET: SECRET,
      GATEHOUSE_ISSUER: `http://127.0.0.1:${port}`,
      // The access log says which worker answered: pino's `pid` on every line.
      GATEHOUSE_LOG_LEVEL: 'info',
      GATEHOUSE_AUTH_FAILURE_LIMIT: '10000000',
    };
    if (dialect === 'postgres') {
      database = await createScaleOutDatabase();
      s = await seedDatabase(database.url);
      cluster = startCluster(
        { ...env, GATEHOUSE_DATABASE_URL: database.url, GATEHOUSE_SECRET: database.secret },
        port,
      );
    } else {
      // No file yet: the primary creates and migrates it before any worker starts.
      const file = join(dir, 'gatehouse.db');
      cluster = startCluster({ ...env, GATEHOUSE_DATABASE_URL: file }, port);
      await untilServing(cluster, 2);
      // Seeded on the test's own connection, beside the two workers (WAL, busy timeout).
      const storage = openStorage(file);
      try {
        s = await seed(storage.db);
      } finally {
        await storage.close();
      }
    }
    await untilServing(cluster, 2);
  }, SLOW_MS);

  afterAll(async () => {
    if (cluster && cluster.child.exitCode === null) {
      cluster.child.kill('SIGTERM');
      await cluster.exited;
    }
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  }, SLOW_MS);

  const admin = () => ({ 'x-api-key': s.adminKeyA.privateKey });

  it('the primary forks two workers, logs each start once, and says once that rate limits are per worker', () => {
    const primary = cluster.child.pid;
    const starts = cluster.lines().filter((l) => l.pid === primary && / serving on /.test(l.msg));
    expect(starts).toHaveLength(2);
    expect(new Set(starts.map((l) => l.workerPid)).size).toBe(2);
    expect(cluster.workerPids()).not.toContain(primary);
    const notices = cluster.lines().filter((l) => /counted per worker/.test(l.msg));
    expect(notices.map((l) => l.pid)).toEqual([primary]);
  });

  it.runIf(dialect === 'sqlite')(
    'migrates an empty database once, in the primary, and gives the first-start hint once',
    () => {
      expect(cluster.stderr().match(/migrating database/g)).toHaveLength(1);
      expect(cluster.stderr().match(/npx gatehouse init/g)).toHaveLength(1);
      const warnings = cluster.lines().filter((l) => /The database is empty/.test(l.msg));
      expect(warnings.map((l) => l.pid)).toEqual([cluster.child.pid]);
    },
  );

  it(
    'answers from both workers: connections are shared out between them',
    async () => {
      const since = cluster.lines().length;
      for (let i = 0; i < 10; i++) expect((await get(cluster.port, '/healthz')).status).toBe(200);
      const workers = cluster.workerPids();
      expect(
        await eventually(async () => answeredBy(cluster, '/healthz', 200, since).size === 2, SETTLE_MS),
      ).toBe(true);
      expect([...answeredBy(cluster, '/healthz', 200, since)].sort()).toEqual([...workers].sort());
    },
    SLOW_MS,
  );

  it(
    'a key revoked through one worker is refused by every worker',
    async () => {
      const created = await send(cluster.port, 'POST', '/v1/api-keys', admin(), {
        label: 'revoked across workers',
      });
      expect(created.status, created.text).toBe(201);
      const key = JSON.parse(created.text) as { publicKey: string; privateKey: string };
      const withKey = { 'x-api-key': key.privateKey };
      // Both workers have checked (and cached) the key: only an invalidation can make them refuse it.
      const cachedEverywhere = await eventually(async () => {
        expect((await get(cluster.port, '/me', withKey)).status).toBe(200);
        return answeredBy(cluster, '/me', 200).size === 2;
      }, SETTLE_MS);
      expect(cachedEverywhere).toBe(true);

      const since = cluster.lines().length;
      const revoked = await send(cluster.port, 'DELETE', `/v1/api-keys/${key.publicKey}`, admin());
      expect(revoked.status, revoked.text).toBe(204);
      // The other worker learns of it from the invalidations feed (polled; on PostgreSQL also notified).
      const refusedEverywhere = await eventually(async () => {
        await get(cluster.port, '/me', withKey);
        return answeredBy(cluster, '/me', 401, since).size === 2;
      }, SETTLE_MS);
      expect(refusedEverywhere).toBe(true);
      for (let i = 0; i < 6; i++) expect((await get(cluster.port, '/me', withKey)).status).toBe(401);
    },
    SLOW_MS,
  );

  it(
    'a worker killed with SIGKILL is replaced, and the port answers meanwhile',
    async () => {
      const [victim, survivor] = cluster.workerPids() as [number, number];
      process.kill(victim, 'SIGKILL');
      const noticed = await eventually(async () => !cluster.workerPids().includes(victim), SETTLE_MS);
      expect(noticed).toBe(true);
      expect(
        cluster
          .lines()
          .some((l) => l.workerPid === victim && /killed by SIGKILL; a replacement starts/.test(l.msg)),
      ).toBe(true);
      // The survivor serves alone until the replacement is up.
      for (let i = 0; i < 4; i++) expect((await get(cluster.port, '/healthz')).status).toBe(200);
      expect(await eventually(async () => cluster.workerPids().length === 2, START_MS)).toBe(true);
      const replacement = cluster.workerPids().find((pid) => pid !== survivor) as number;
      expect(replacement).not.toBe(victim);

      const since = cluster.lines().length;
      const answered = await eventually(async () => {
        expect((await get(cluster.port, '/healthz')).status).toBe(200);
        return answeredBy(cluster, '/healthz', 200, since).has(replacement);
      }, SETTLE_MS);
      expect(answered).toBe(true);
    },
    SLOW_MS,
  );

  it(
    'SIGTERM stops every worker, and the primary exits 0 once all have drained',
    async () => {
      const workers = cluster.workerPids();
      expect(workers).toHaveLength(2);
      cluster.child.kill('SIGTERM');
      expect(await cluster.exited).toBe(0);
      for (const pid of workers) expect(exists(pid), `worker ${pid} still runs`).toBe(false);
      const stopped = cluster.lines().filter((l) => l.pid === cluster.child.pid && / stopped$/.test(l.msg));
      expect(stopped.map((l) => l.workerPid).sort()).toEqual([...workers].sort());
    },
    SLOW_MS,
  );
});

describe('GATEHOUSE_WORKERS: failures', () => {
  let dir: string;
  let occupied: Server | undefined;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-workers-fail-'));
  });
  afterAll(() => {
    occupied?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'a bad value stops gatehouse serve before it starts anything, naming the variable',
    async () => {
      const cluster = startCluster(
        { GATEHOUSE_WORKERS: '0', GATEHOUSE_SECRET: SECRET, GATEHOUSE_DATABASE_URL: join(dir, 'bad.db') },
        await freePort(),
      );
      expect(await cluster.exited).toBe(2);
      expect(cluster.stderr()).toMatch(
        /GATEHOUSE_WORKERS: must be a number of processes from 1 to 64, or auto/,
      );
      expect(cluster.lines()).toEqual([]);
    },
    SLOW_MS,
  );

  it(
    'workers that cannot start (the port is taken) stop the primary with exit 1, not a restart loop',
    async () => {
      const port = await freePort();
      occupied = createServer();
      await new Promise<void>((resolve) => occupied?.listen(port, '127.0.0.1', resolve));
      const cluster = startCluster(
        { GATEHOUSE_WORKERS: '2', GATEHOUSE_SECRET: SECRET, GATEHOUSE_DATABASE_URL: join(dir, 'taken.db') },
        port,
      );
      expect(await cluster.exited).toBe(1);
      expect(cluster.stderr()).toMatch(/EADDRINUSE/);
      const primary = cluster.lines().filter((l) => l.pid === cluster.child.pid);
      expect(primary.some((l) => /before serving: stopping the other workers/.test(l.msg))).toBe(true);
      expect(primary.some((l) => /replacement/.test(l.msg))).toBe(false);
    },
    SLOW_MS,
  );
});
