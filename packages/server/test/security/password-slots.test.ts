import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { expect, it } from 'vitest';
import { passwordSlots } from '../../src/domain/password-slots.ts';
import { hashPassword, verifyPassword } from '../../src/domain/passwords.ts';
import { Browser, hiddenFields } from '../helpers/authorization-flow.ts';
import { releaseTogether } from '../helpers/concurrent.ts';
import { postForm } from '../helpers/http.ts';
import { useSeededApp } from '../helpers/seeded-app.ts';
import { describeEachDialect } from '../helpers/test-app.ts';

describeEachDialect('password checks during a sign-in storm', (dialect) => {
  const ctx = useSeededApp(dialect);

  it('runs a bounded number of password hashes at once and refuses the excess with 503 and Retry-After', async () => {
    // 200 accounts from 200 addresses: no sign-in budget stops them, only the password slots can.
    const sends = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const browser = new Browser(ctx.app);
        const page = await browser.get('/console/sign-in');
        const form = {
          ...hiddenFields(page.body, '/console/sign-in'),
          email: `storm-${i}@unknown.test`,
          password: 'wrong password, long enough',
        };
        return () =>
          postForm(ctx.app, '/console/sign-in', form, browser.jar.header(), {
            remoteAddress: `10.20.${Math.floor(i / 200)}.${i % 200}`,
          });
      }),
    );
    let mostRunning = 0;
    const sampler = setInterval(() => {
      mostRunning = Math.max(mostRunning, passwordSlots.load.running);
    }, 5);
    const responses = await releaseTogether(sends);
    clearInterval(sampler);

    const busy = responses.filter((r) => r.statusCode === 503);
    expect(busy.length).toBeGreaterThan(0);
    for (const res of busy) {
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
    }
    expect(responses.every((r) => r.statusCode === 400 || r.statusCode === 503)).toBe(true);
    expect(mostRunning).toBeLessThanOrEqual(passwordSlots.limits.concurrency);
    // Fewer hashes run at once than there are cores, so the event loop always has one.
    expect(passwordSlots.limits.concurrency).toBeLessThan(Math.max(2, availableParallelism()));
  });

  it('does not count a sign-in refused as busy against its account or address', async () => {
    ctx.app.services.signInThrottle.clear();
    const reservation = await ctx.app.services.signInThrottle.reserve('owner@a.test', '10.21.0.1');
    if (!reservation.ok) throw new Error('expected a place');
    await ctx.app.services.signInThrottle.cancel(reservation.attempt);
    for (let i = 0; i < ctx.app.services.signInThrottle.limits.perAccount; i++) {
      expect((await ctx.app.services.signInThrottle.reserve('owner@a.test', '10.21.0.1')).ok).toBe(true);
    }
  });

  it.runIf(existsSync('/proc/self/task'))(
    'hashes passwords on a thread of lower scheduling priority than the event loop',
    async () => {
      const hash = await hashPassword('a long enough passphrase');
      expect(await verifyPassword('a long enough passphrase', hash)).toBe(true);
      expect(await verifyPassword('another long passphrase', hash)).toBe(false);
      // Field 19 of /proc/<pid>/task/<tid>/stat is the thread's nice value.
      const nice = (tid: string) =>
        Number(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]?.split(' ')[16]);
      const tasks = readdirSync('/proc/self/task');
      expect(nice(String(process.pid))).toBe(0);
      expect(tasks.some((tid) => nice(tid) > 0)).toBe(true);
    },
  );
});
