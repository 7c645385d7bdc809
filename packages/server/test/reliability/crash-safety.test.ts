import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { hashSecret } from '../../src/domain/secrets.ts';
import { basicAuth } from '../helpers/http.ts';
import { type Answer, call } from '../helpers/instances.ts';
import { describeEachDialect } from '../helpers/test-app.ts';
import {
  type CrashDeployment,
  issueCodes,
  jwtClaims,
  REDIRECT_URI,
  startCrashDeployment,
  streamUntilKilled,
} from './crash-harness.ts';
import {
  type Acknowledged,
  inconsistencies,
  missingAcknowledged,
  nothingAcknowledged,
} from './crash-invariants.ts';

/** Kills per operation and dialect. */
const KILLS = 5;
/** Concurrent request loops in each stream. */
const WORKERS = 8;
/** The kill lands at a random moment this far into the stream. */
const KILL_AFTER_MS = { min: 30, max: 300 };
/** Codes issued before each stream: more than a stream of {@link KILL_AFTER_MS} exchanges. */
const CODES_PER_STREAM = 300;
/** How often a code or refresh token is sent twice at once (the race a replay must lose). */
const DUPLICATE_RATE = 0.2;
/** Five kills and restarts, with the database read after each. */
const SLOW_MS = 60_000;

const randomBetween = ({ min, max }: { min: number; max: number }) =>
  Math.round(min + Math.random() * (max - min));
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)] as T;

/** What key creation and rotation answer (never logged: it holds the private key). */
interface IssuedKey {
  publicKey: string;
  privateKey: string;
}

/** The token endpoint's answer, parsed. */
interface TokenAnswer {
  access_token: string;
  refresh_token: string;
  error?: string;
}

/**
 * Sends one request, or the same request twice at once; records every answer that came (`onAnswer`)
 * before rethrowing a request that got none, so that no acknowledged write goes unrecorded.
 */
async function sendMaybeTwice(send: () => Promise<Answer>, twice: boolean, onAnswer: (a: Answer[]) => void) {
  const settled = await Promise.allSettled(twice ? [send(), send()] : [send()]);
  onAnswer(settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : [])));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Of a code or refresh token sent twice at once, one exchange at most may succeed; a loser is invalid_grant. */
function checkRace(answers: readonly Answer[], what: string): Answer | undefined {
  const won = answers.filter((a) => a.status === 200);
  if (won.length > 1) throw new Error(`one ${what} answered 200 ${won.length} times`);
  for (const a of answers)
    if (a.status !== 200 && !(a.status === 400 && a.json<TokenAnswer>().error === 'invalid_grant'))
      throw new Error(`${what} answered ${a.status}: ${a.text}`);
  return won[0];
}

/** The kills cut requests in flight, and the streams had writes acknowledged to check. */
function expectRealKills({ cut, acknowledged }: { cut: number; acknowledged: number }): void {
  expect(cut, 'requests cut by the kills').toBeGreaterThan(0);
  expect(acknowledged, 'writes acknowledged before the kills').toBeGreaterThan(0);
}

describeEachDialect('a server killed with SIGKILL in the middle of writes', (dialect) => {
  let deployment: CrashDeployment;
  const acked: Acknowledged = nothingAcknowledged();
  const client = () => ({
    authorization: basicAuth(deployment.seed.orgKeyA.key.publicKey, deployment.seed.orgKeyA.privateKey),
  });
  const admin = () => ({ 'x-api-key': deployment.seed.adminKeyA.privateKey });

  beforeAll(async () => {
    deployment = await startCrashDeployment(dialect);
  }, SLOW_MS);
  afterAll(async () => {
    await deployment?.close();
  }, SLOW_MS);

  /**
   * Kills the server {@link KILLS} times, each time at a random moment of a stream of `step`s; after
   * each restart, reads the database: no invariant broken, every acknowledged write there. Then
   * `probe` must succeed on the restarted process.
   */
  async function killRepeatedly(
    step: (worker: number) => Promise<void>,
    probe: () => Promise<void>,
    prepare: () => Promise<void> = async () => {},
  ): Promise<{ cut: number; acknowledged: number }> {
    const total = () => Object.values(acked).reduce((n, list: unknown[]) => n + list.length, 0);
    let cut = 0;
    let acknowledged = 0;
    for (let kill = 1; kill <= KILLS; kill++) {
      // A test that failed may have left the process dead: the next one starts from a running server.
      if (!deployment.instance.alive()) await deployment.restart();
      await prepare();
      const killAfterMs = randomBetween(KILL_AFTER_MS);
      const before = total();
      const outcome = await streamUntilKilled(deployment.instance, WORKERS, step, killAfterMs);
      cut += outcome.cut;
      acknowledged += total() - before;
      await deployment.restart();
      const when = `after kill ${kill} of ${KILLS}, ${killAfterMs} ms into the stream`;
      const [broken, missing] = await deployment.withDatabase((db) =>
        Promise.all([inconsistencies(db), missingAcknowledged(db, acked)]),
      );
      expect(broken, `inconsistent ${when}`).toEqual([]);
      expect(missing, `acknowledged writes lost ${when}`).toEqual([]);
      await probe();
    }
    return { cut, acknowledged };
  }

  let labels = 0;
  async function createKey(): Promise<void> {
    const res = await call(deployment.instance, 'POST', '/v1/api-keys', {
      headers: admin(),
      body: { label: `crash ${labels++}` },
    });
    if (res.status !== 201) throw new Error(`key creation answered ${res.status}: ${res.text}`);
    const { publicKey, privateKey } = res.json<IssuedKey>();
    acked.created.push({ publicKey, secretHash: hashSecret(privateKey) });
  }

  it(
    'key creation: after each kill, every key has its audit event and every key answered 201 is there',
    async () => {
      const outcome = await killRepeatedly(createKey, createKey);
      expectRealKills(outcome);
    },
    SLOW_MS,
  );

  /** One rotation of a random target; 409 when another rotation of the same key runs. */
  async function rotateKey(strict = false): Promise<void> {
    const publicKey = pick(deployment.rotationTargets);
    const res = await call(deployment.instance, 'POST', `/v1/api-keys/${publicKey}/rotate`, {
      headers: admin(),
      body: { graceSeconds: pick([0, 60]) },
    });
    if (res.status === 409 && !strict) return;
    if (res.status !== 200) throw new Error(`rotation answered ${res.status}: ${res.text}`);
    acked.rotated.push({ publicKey, secretHash: hashSecret(res.json<IssuedKey>().privateKey) });
  }

  it(
    'key rotation: after each kill, no key has two current secrets, each rotation has its audit event, every rotation answered 200 is there',
    async () => {
      const outcome = await killRepeatedly(
        () => rotateKey(),
        () => rotateKey(true),
      );
      expectRealKills(outcome);
    },
    SLOW_MS,
  );

  let codes: string[] = [];
  /** Codes whose exchange the kill cut: presented again after the restart, first. */
  const unanswered: string[] = [];
  const refillCodes = async (n: number) => {
    codes = [...(await issueCodes(deployment, n)), ...unanswered.splice(0)];
  };

  /** Exchanges a code (sometimes twice at once); resolves with the refresh token when it was answered 200. */
  async function exchangeCode(duplicateRate = DUPLICATE_RATE): Promise<string | undefined> {
    const code = codes.pop();
    if (code === undefined) {
      await sleep(5);
      return undefined;
    }
    let refreshToken: string | undefined;
    const send = () =>
      call(deployment.instance, 'POST', '/connect/token', {
        headers: client(),
        form: { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI },
      });
    try {
      await sendMaybeTwice(send, Math.random() < duplicateRate, (answers) => {
        const won = checkRace(answers, 'code exchange')?.json<TokenAnswer>();
        if (!won) return;
        const jti = String(jwtClaims(won.access_token).jti);
        acked.exchanged.push({ codeHash: hashSecret(code), jti, refreshHash: hashSecret(won.refresh_token) });
        refreshToken = won.refresh_token;
      });
    } catch (error) {
      // The kill leaves unknown whether it was redeemed: presented again, it must still be redeemed once at most.
      unanswered.push(code);
      throw error;
    }
    return refreshToken;
  }

  it(
    'code exchange: after each kill, no code issued tokens twice and every exchange answered 200 is there',
    async () => {
      const outcome = await killRepeatedly(
        async () => {
          await exchangeCode();
        },
        async () => {
          codes = await issueCodes(deployment, 1);
          expect(await exchangeCode(0)).toBeDefined();
        },
        () => refillCodes(CODES_PER_STREAM),
      );
      expectRealKills(outcome);
    },
    SLOW_MS,
  );

  /**
   * Each worker's refresh token: the family it rotates, until a refresh fails (then a new code). A token
   * whose refresh the kill cut is presented again after the restart, rotated or not by the dead process.
   */
  const chains: (string | undefined)[] = [];

  /** Rotates a worker's refresh token (sometimes presenting it twice at once), or starts its family. */
  async function refresh(worker: number, duplicateRate = DUPLICATE_RATE): Promise<boolean> {
    const presented = chains[worker];
    if (presented === undefined) {
      chains[worker] = await exchangeCode(0);
      return false;
    }
    let rotated = false;
    const send = () =>
      call(deployment.instance, 'POST', '/connect/token', {
        headers: client(),
        form: { grant_type: 'refresh_token', refresh_token: presented },
      });
    await sendMaybeTwice(send, Math.random() < duplicateRate, (answers) => {
      const won = checkRace(answers, 'refresh')?.json<TokenAnswer>();
      if (won) {
        const jti = String(jwtClaims(won.access_token).jti);
        acked.refreshed.push({
          presentedHash: hashSecret(presented),
          jti,
          refreshHash: hashSecret(won.refresh_token),
        });
        rotated = true;
      }
      // A reuse revokes the family: its successor dies with it, so the worker starts a new one.
      chains[worker] = won && answers.length === 1 ? won.refresh_token : undefined;
    });
    return rotated;
  }

  it(
    'refresh rotation: after each kill, no refresh token has two successors, no family two live tokens, every rotation answered 200 is there',
    async () => {
      const outcome = await killRepeatedly(
        async (worker) => {
          await refresh(worker);
        },
        async () => {
          codes = await issueCodes(deployment, 1);
          chains[WORKERS] = undefined;
          await refresh(WORKERS, 0);
          expect(chains[WORKERS]).toBeDefined();
          expect(await refresh(WORKERS, 0)).toBe(true);
        },
        () => refillCodes(WORKERS * 4),
      );
      expectRealKills(outcome);
    },
    SLOW_MS,
  );
});
