import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { expect, it } from 'vitest';
import { Browser, hiddenFields } from '../helpers/authorization-flow.ts';
import { releaseTogether } from '../helpers/concurrent.ts';
import { postForm } from '../helpers/http.ts';
import { PASSWORD } from '../helpers/seed.ts';
import { useSeededApp } from '../helpers/seeded-app.ts';
import { describeEachDialect } from '../helpers/test-app.ts';

const REDIS_URL = 'redis://127.0.0.1:6379';

/** Loads the sign-in page once per attempt (each its own browser and CSRF token), then posts them all at once. */
async function signInTogether(
  app: FastifyInstance,
  attempts: { email: string; password: string; ip: string }[],
) {
  const prepared = await Promise.all(
    attempts.map(async (attempt) => {
      const browser = new Browser(app);
      const page = await browser.get('/console/sign-in');
      const form = {
        ...hiddenFields(page.body, '/console/sign-in'),
        email: attempt.email,
        password: attempt.password,
      };
      return () =>
        postForm(app, '/console/sign-in', form, browser.jar.header(), { remoteAddress: attempt.ip });
    }),
  );
  // Released in one tick: every request reaches the throttle before any password check ends.
  const responses = await releaseTogether(prepared);
  const count = (status: number) => responses.filter((r) => r.statusCode === status).length;
  return { responses, count };
}

for (const store of ['memory', 'redis'] as const) {
  describeEachDialect(`sign-in throttling under concurrent attempts (${store} counters)`, (dialect) => {
    const ctx = useSeededApp(
      dialect,
      store === 'redis'
        ? {
            GATEHOUSE_REDIS_URL: REDIS_URL,
            GATEHOUSE_REDIS_PREFIX: `test-${randomBytes(6).toString('hex')}:`,
          }
        : {},
    );

    it('lets at most 10 of 100 concurrent attempts on one account reach the password check', async () => {
      const attempts = Array.from({ length: 100 }, (_, i) => ({
        email: 'owner@a.test',
        password: i === 99 ? PASSWORD : `wrong password ${i}`,
        // From many addresses, so that only the per-account budget can stop them.
        ip: `10.1.${Math.floor(i / 250)}.${i % 250}`,
      }));
      const { count } = await signInTogether(ctx.app, attempts);
      expect(count(400) + count(303)).toBeLessThanOrEqual(10);
      expect(count(429)).toBeGreaterThanOrEqual(90);
      expect(count(500)).toBe(0);
    });

    it('lets at most 50 of 200 concurrent attempts from one address reach the password check', async () => {
      const attempts = Array.from({ length: 200 }, (_, i) => ({
        email: `nobody-${i}@unknown.test`,
        password: 'wrong password',
        ip: '10.2.0.1',
      }));
      const { count } = await signInTogether(ctx.app, attempts);
      expect(count(400)).toBeLessThanOrEqual(50);
      expect(count(429)).toBeGreaterThanOrEqual(150);
      expect(count(500)).toBe(0);
    });

    it('does not count successful sign-ins against the address: 60 in a row from one address succeed', async () => {
      for (let i = 0; i < 60; i++) {
        const { responses } = await signInTogether(ctx.app, [
          { email: 'owner@b.test', password: PASSWORD, ip: '10.3.0.1' },
        ]);
        expect(responses[0]?.statusCode).toBe(303);
      }
    });
  });
}
