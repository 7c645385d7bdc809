/**
 * Runs `tasks` simultaneously: every task waits behind one barrier, which opens only once all of them
 * are queued, so that none starts before the last is ready. When the barrier opens, all of them start
 * in the same tick, before any I/O completes: the way to provoke races (two code exchanges, two
 * refreshes, a budget spent twice) rather than a queue of requests that each finish before the next.
 *
 * Waits for every task, even when some fail, so that nothing is still in flight when the test moves
 * on; then rejects with the first failure (an `AggregateError` when several failed).
 *
 * @example
 * ```ts
 * const responses = await releaseTogether(
 *   Array.from({ length: 20 }, () => () => tokenRequest(app, client, { grant_type: 'authorization_code', code })),
 * );
 * expect(countStatuses(responses)).toEqual({ 200: 1, 400: 19 });
 * ```
 */
export async function releaseTogether<T>(tasks: ReadonlyArray<() => T | Promise<T>>): Promise<T[]> {
  let open: () => void = () => {};
  const barrier = new Promise<void>((resolve) => {
    open = resolve;
  });
  // Each wrapper is suspended at the barrier until all are created; a task that throws synchronously
  // becomes a rejection of its own wrapper, not an exception that stops the others from being queued.
  const started = tasks.map(async (task) => {
    await barrier;
    return task();
  });
  open();
  const settled = await Promise.allSettled(started);
  const failures = settled.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failures.length === 1) throw failures[0]?.reason;
  if (failures.length > 1)
    throw new AggregateError(
      failures.map((failure) => failure.reason),
      `${failures.length} of ${tasks.length} tasks failed`,
    );
  return settled.map((result) => (result as PromiseFulfilledResult<T>).value);
}

/** {@link releaseTogether} for `n` copies of one request; `request` gets the copy's index. */
export function releaseMany<T>(n: number, request: (index: number) => T | Promise<T>): Promise<T[]> {
  return releaseTogether(Array.from({ length: n }, (_, index) => () => request(index)));
}

/** How many responses had each status code, for example `{ 200: 1, 400: 19 }`. */
export function countStatuses(responses: ReadonlyArray<{ statusCode: number }>): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const { statusCode } of responses) counts[statusCode] = (counts[statusCode] ?? 0) + 1;
  return counts;
}
