import pino from 'pino';

/**
 * Lines are written once this many bytes are waiting (about a dozen access-log lines), in writes of at
 * most {@link WRITE_BYTES}: a write of up to PIPE_BUF (4 KiB) to a pipe is atomic, so the lines of
 * several processes sharing one stdout (GATEHOUSE_WORKERS) are never torn into each other.
 */
const BATCH_BYTES = 3 * 1024;
const WRITE_BYTES = 4 * 1024;
/** A quiet server's lines wait at most this long. */
const FLUSH_MS = 500;
/**
 * What may wait when stdout does not keep up (a stalled pipe, a slow log shipper): beyond it, lines are
 * dropped and counted rather than held until memory runs out, or written synchronously on the hot path.
 */
const MAX_WAITING_BYTES = 16 * 1024 * 1024;

let destination: { stream: ReturnType<typeof pino.destination>; dropped: number } | undefined;

/**
 * Standard output, written off the hot path: lines are batched in memory and written by an
 * asynchronous `write(2)` of several kilobytes, instead of one write per line, which halved the
 * throughput of `GET /healthz` (issue 15; bench row 9 compares with `warn`). pino's own
 * exit handler writes what is still waiting, synchronously, when the process exits: after a graceful
 * stop, after `process.exit`, and after an uncaught exception (a SIGKILL loses at most the last
 * {@link FLUSH_MS}). One per process, as stdout is.
 */
export function stdoutDestination(): pino.DestinationStream {
  if (destination) return destination.stream;
  const stream = pino.destination({
    dest: 1,
    sync: false,
    minLength: BATCH_BYTES,
    maxWrite: WRITE_BYTES,
    maxLength: MAX_WAITING_BYTES,
    periodicFlush: FLUSH_MS,
  });
  const created = { stream, dropped: 0 };
  stream.on('drop', () => {
    created.dropped++;
  });
  destination = created;
  return stream;
}

/** Log lines dropped because stdout did not keep up (`gatehouse_log_lines_dropped_total`). */
export function droppedLogLines(): number {
  return destination?.dropped ?? 0;
}

/**
 * Writes what waits now, synchronously: once the server listens, so that its start-up lines ("Server
 * listening at …") are out at once rather than with the next batch. Nothing to do without a destination.
 */
export function flushLogsNow(): void {
  try {
    destination?.stream.flushSync();
  } catch {
    // stdout is closed or not writable: the batched writes report that themselves.
  }
}
