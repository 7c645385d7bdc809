import { Worker } from 'node:worker_threads';

export interface ScryptParameters {
  N: number;
  r: number;
  p: number;
  maxmem: number;
}

/**
 * The worker's code, evaluated rather than loaded from a file so that the bundle `npm start` runs
 * needs no file beside it. It lowers its own thread's scheduling priority first (on Linux a nice
 * value is per thread): under a sign-in storm the kernel then gives the event loop, which issues and
 * verifies tokens, the cores first, and hashes take what is left. With crypto.scrypt on libuv's pool,
 * whose threads share the event loop's priority, a storm of 200 sign-ins stalled the token endpoint.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { scryptSync } = require('node:crypto');
try { require('node:os').setPriority(10); } catch {}
parentPort.on('message', ({ password, salt, keyLength, parameters }) => {
  try {
    parentPort.postMessage({ key: scryptSync(password, salt, keyLength, parameters) });
  } catch (error) {
    parentPort.postMessage({ error: error instanceof Error ? error.message : String(error) });
  }
});
`;

type Reply = { key: Uint8Array } | { error: string };

/** One worker thread that derives one key at a time. */
class ScryptWorker {
  private worker: Worker | undefined;
  private pending: { resolve: (key: Buffer) => void; reject: (error: Error) => void } | undefined;
  busy = false;

  derive(password: string, salt: Buffer, keyLength: number, parameters: ScryptParameters): Promise<Buffer> {
    this.busy = true;
    const worker = this.started();
    // Referenced while it works, so that a process awaiting a hash (the CLI) does not exit first.
    worker.ref();
    return new Promise<Buffer>((resolve, reject) => {
      this.pending = { resolve, reject };
      worker.postMessage({ password, salt, keyLength, parameters });
    }).finally(() => {
      worker.unref();
      this.busy = false;
      this.pending = undefined;
    });
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    // Idle workers never keep the process alive.
    worker.unref();
    worker.on('message', (reply: Reply) => {
      if ('key' in reply) this.pending?.resolve(Buffer.from(reply.key));
      else this.pending?.reject(new Error(`scrypt failed: ${reply.error}`));
    });
    const fail = (error: Error) => {
      this.worker = undefined;
      this.pending?.reject(error);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the scrypt worker exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }
}

/**
 * A fixed set of low-priority threads for password hashing. Callers bound how many derivations run at
 * once to the set's size (see password-slots.ts), so a free worker is always found.
 */
export class ScryptWorkers {
  private readonly workers: ScryptWorker[];

  constructor(size: number) {
    this.workers = Array.from({ length: size }, () => new ScryptWorker());
  }

  derive(password: string, salt: Buffer, keyLength: number, parameters: ScryptParameters): Promise<Buffer> {
    const worker = this.workers.find((w) => !w.busy);
    if (!worker)
      return Promise.reject(new Error('no scrypt worker is free: run derivations in a password slot'));
    return worker.derive(password, salt, keyLength, parameters);
  }
}
