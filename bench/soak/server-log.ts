import { closeSync, openSync, readSync, statSync } from 'node:fs';
import type { Check } from './verify.ts';

/** Pino levels: 50 error, 60 fatal. */
const ERROR_LINE = /"level":(50|60)[,}]/;
const CHUNK = 1 << 20;

/**
 * Reads the server's log (one JSON line per entry) as it grows, without holding it: counts the lines
 * and the error and fatal ones, and keeps the first few error messages. A server can answer every
 * request well and still log failures of its background work (batched writes, invalidation polling).
 */
export class LogScanner {
  lines = 0;
  errors = 0;
  readonly examples: string[] = [];
  private offset = 0;
  private partial = '';

  constructor(private readonly file: string) {}

  /** Reads what was written since the last call. */
  scan(): void {
    let size: number;
    try {
      size = statSync(this.file).size;
    } catch {
      return;
    }
    if (size <= this.offset) return;
    const fd = openSync(this.file, 'r');
    try {
      const buffer = Buffer.alloc(CHUNK);
      while (this.offset < size) {
        const read = readSync(fd, buffer, 0, Math.min(CHUNK, size - this.offset), this.offset);
        if (read <= 0) break;
        this.offset += read;
        const text = this.partial + buffer.toString('utf8', 0, read);
        const lines = text.split('\n');
        this.partial = lines.pop() ?? '';
        for (const line of lines) this.count(line);
      }
    } finally {
      closeSync(fd);
    }
  }

  private count(line: string): void {
    if (!line) return;
    this.lines++;
    if (!ERROR_LINE.test(line)) return;
    this.errors++;
    if (this.examples.length >= 3) return;
    try {
      const entry = JSON.parse(line) as { msg?: string; err?: { type?: string; message?: string } };
      this.examples.push(
        `${entry.msg ?? ''}${entry.err ? ` (${entry.err.type}: ${entry.err.message})` : ''}`.slice(0, 200),
      );
    } catch {
      this.examples.push(line.slice(0, 200));
    }
  }

  /** The check of the report: no error or fatal line in the whole run. */
  check(): Check {
    return {
      name: 'the server logged no error or fatal line',
      ok: this.errors === 0,
      detail: this.errors
        ? `${this.errors} of ${this.lines.toLocaleString('en')} lines; first: ${this.examples.join(' | ')}`
        : `${this.lines.toLocaleString('en')} lines read, none at level error or fatal`,
    };
  }
}
