/** The server's memory as its own `/metrics` reports it (prom-client's process defaults). */
export interface ServerMemory {
  /** V8 heap in use (live objects and garbage not yet collected), and allocated. */
  heapUsedMb: number;
  heapTotalMb: number;
  /** Memory held outside the V8 heap by JavaScript objects (Buffers and the like). */
  externalMb: number;
  rssMb: number;
  /** Log lines the server dropped because its output did not keep up, where it counts them. */
  droppedLogLines: number | null;
}

/**
 * Reads the heap figures from `GET /metrics` (on by default, open without `GATEHOUSE_METRICS_TOKEN`).
 * With workers, one of them answers: the figures are that worker's. Throws when a figure is missing.
 */
export async function readServerMemory(origin: string): Promise<ServerMemory> {
  const response = await fetch(`${origin}/metrics`);
  const text = await response.text();
  if (!response.ok) throw new Error(`GET /metrics answered ${response.status}`);
  const value = (name: string): number | null => {
    const found = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)`, 'm').exec(text)?.[1];
    return found === undefined ? null : Number(found);
  };
  const mb = (name: string): number => {
    const bytes = value(name);
    if (bytes === null) throw new Error(`GET /metrics has no ${name}`);
    return bytes / 2 ** 20;
  };
  return {
    heapUsedMb: mb('nodejs_heap_size_used_bytes'),
    heapTotalMb: mb('nodejs_heap_size_total_bytes'),
    externalMb: mb('nodejs_external_memory_bytes'),
    rssMb: mb('process_resident_memory_bytes'),
    droppedLogLines: value('gatehouse_log_lines_dropped_total'),
  };
}
