import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A child process the bench started, with the tail of its output for error reports. */
export interface Child {
  readonly process: ChildProcess;
  readonly pid: number;
  output(): string;
  stop(): Promise<void>;
}

/** A free loopback port (the OS picks one; the tiny race until the child binds it is acceptable here). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const TAIL = 8192;

/**
 * The bench's environment minus every `GATEHOUSE_*` variable: a setting left in the shell (a log level, a
 * Redis URL) must not change what is measured; children get exactly what the bench gives them.
 */
function inherited(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('GATEHOUSE_')));
}

/** The last `TAIL` bytes of a file, or '' when it cannot be read. */
function fileTail(path: string): string {
  try {
    const size = statSync(path).size;
    const length = Math.min(size, TAIL);
    const buffer = Buffer.alloc(length);
    const fd = openSync(path, 'r');
    try {
      readSync(fd, buffer, 0, length, size - length);
    } finally {
      closeSync(fd);
    }
    return buffer.toString();
  } catch {
    return '';
  }
}

/**
 * Spawns `node <args>`. Output is kept (last 8 KB) rather than printed, so runs stay readable. With
 * `stdoutFile`, stdout goes straight to that file (opened for appending) instead of a pipe: a server
 * that logs every request writes tens of MB per round, which the bench must neither hold in memory nor
 * read on its own CPU, and a pipe the bench drained late would stall the server's synchronous writes.
 */
export function spawnNode(
  args: string[],
  env: Record<string, string>,
  cwd: string,
  stdoutFile?: string,
): Child {
  // O_APPEND: after the bench truncates the file between measurements, the child writes from its new end.
  const out = stdoutFile ? openSync(stdoutFile, 'a') : null;
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, args, {
      cwd,
      env: { ...inherited(), ...env },
      stdio: ['ignore', out ?? 'pipe', 'pipe'],
    });
  } finally {
    // The child holds its own copy of the descriptor.
    if (out !== null) closeSync(out);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start node ${args.join(' ')}`);
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-TAIL);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    process: child,
    pid,
    output: () => (stdoutFile ? `${fileTail(stdoutFile)}\n${tail}` : tail),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      // Its worker processes, if any, noted now: they must not outlive a primary that had to be killed.
      const descendants = processTree(pid).slice(1);
      // SIGTERM lets the server close cleanly (and write its --cpu-prof profile); SIGKILL if it hangs.
      child.kill('SIGTERM');
      const done = await Promise.race([exited.then(() => true), sleep(15_000).then(() => false)]);
      if (!done) {
        child.kill('SIGKILL');
        await exited;
      }
      for (const worker of descendants) {
        try {
          process.kill(worker, 'SIGKILL');
        } catch {
          // Already gone, as it should be.
        }
      }
    },
  };
}

/** Polls `url` until it answers 200, the child dies, or `timeoutMs` passes. */
export async function waitForHttp(url: string, child: Child, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.process.exitCode !== null) {
      throw new Error(
        `process exited (${child.process.exitCode}) before answering ${url}:\n${child.output()}`,
      );
    }
    try {
      const response = await fetch(url);
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await sleep(100);
  }
  throw new Error(`no answer from ${url} after ${timeoutMs} ms:\n${child.output()}`);
}

/**
 * A process and its descendants (a cluster primary's workers), from `/proc/<pid>/task/<tid>/children`
 * (Linux only; the process alone elsewhere).
 */
export function processTree(pid: number): number[] {
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    const parent = tree[i] as number;
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${parent}/task`);
    } catch {
      continue;
    }
    for (const task of tasks) {
      try {
        for (const child of readFileSync(`/proc/${parent}/task/${task}/children`, 'utf8').split(' ')) {
          const n = Number(child);
          if (child.trim() && Number.isInteger(n) && !tree.includes(n)) tree.push(n);
        }
      } catch {
        // The task ended meanwhile.
      }
    }
  }
  return tree;
}

/** Sums `read` over a process tree; null when not even the root could be read. */
function sumTree(pid: number, read: (pid: number) => number | null): number | null {
  let total: number | null = null;
  for (const p of processTree(pid)) {
    const value = read(p);
    if (value !== null) total = (total ?? 0) + value;
  }
  return total;
}

function statusMb(pid: number, field: 'VmHWM' | 'VmRSS'): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1];
    return kb === undefined ? null : Number(kb) / 1024;
  } catch {
    return null;
  }
}

/**
 * Peak resident set size (VmHWM) of a process in MB, from /proc (Linux only; null elsewhere), summed over
 * its workers when it has any (an upper bound then: their peaks need not coincide).
 */
export function peakRssMb(pid: number): number | null {
  return sumTree(pid, (p) => statusMb(p, 'VmHWM'));
}

/** Current resident set size (VmRSS) of a process and its workers, in MB. */
export function rssMb(pid: number): number | null {
  return sumTree(pid, (p) => statusMb(p, 'VmRSS'));
}

/** CPU time (user + system, ms) of one process so far, from /proc/<pid>/stat; null off Linux. */
export function ownCpuMs(pid: number): number | null {
  try {
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th, in clock ticks (100 Hz).
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}

/** CPU time (ms) of a server so far: the process and its workers (`GATEHOUSE_WORKERS`), summed. */
export function cpuMs(pid: number): number | null {
  return sumTree(pid, ownCpuMs);
}
