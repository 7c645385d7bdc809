import { afterAll, beforeAll, beforeEach, expect, it, vi } from 'vitest';
import { Denylist } from '../../src/auth/denylist.ts';
import {
  INVALIDATION_RETENTION_MS,
  pruneExpiredRecords,
  startRetentionJob,
} from '../../src/domain/retention.ts';
import { migrate, type Storage } from '../../src/storage/database.ts';
import { deleteAuditEventsBefore, insertAuditEvent } from '../../src/storage/repositories/audit.ts';
import { insertRevokedToken } from '../../src/storage/repositories/revoked-tokens.ts';
import { describeEachDialect, openTestStorage } from '../helpers/test-app.ts';

const DAY = 86_400_000;
const NOW = Date.UTC(2030, 0, 1);
const POLICY = { auditRetentionDays: 30, refreshTokenTtl: 30 * 86_400 };

describeEachDialect('retention: records nothing can need any more are pruned', (dialect) => {
  let storage: Storage;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ storage, drop } = await openTestStorage(dialect));
    await migrate(storage);
  });
  beforeEach(async () => {
    await storage.db.deleteFrom('audit_events').execute();
    await storage.db.deleteFrom('invalidations').execute();
    await storage.db.deleteFrom('revoked_tokens').execute();
  });
  afterAll(async () => {
    await storage.close();
    await drop();
  });

  const audit = (action: string, at: number) =>
    insertAuditEvent(storage.db, { tenantId: 1, actor: 'cli', action }, at);
  const actions = async () =>
    (await storage.db.selectFrom('audit_events').select('action').orderBy('id').execute()).map(
      (r) => r.action,
    );

  it('deletes audit events older than GATEHOUSE_AUDIT_RETENTION_DAYS and keeps newer ones', async () => {
    await audit('old', NOW - 31 * DAY);
    await audit('just-expired', NOW - 30 * DAY - 1);
    await audit('just-kept', NOW - 30 * DAY);
    await audit('new', NOW - DAY);
    const pruned = await pruneExpiredRecords(storage.db, POLICY, NOW);
    expect(pruned.auditEvents).toBe(2);
    expect(await actions()).toEqual(['just-kept', 'new']);
  });

  it('deletes old audit events in bounded batches until none is left', async () => {
    const rows = Array.from({ length: 2500 }, (_, i) => ({
      tenant_id: 1,
      actor: 'cli',
      action: 'old',
      created_at: NOW - 400 * DAY + i,
    }));
    for (let i = 0; i < rows.length; i += 500)
      await storage.db
        .insertInto('audit_events')
        .values(rows.slice(i, i + 500))
        .execute();
    await audit('new', NOW);
    // One batch deletes at most its limit, oldest first, so no statement holds a long lock.
    expect(await deleteAuditEventsBefore(storage.db, NOW - 30 * DAY, 1000)).toBe(1000);
    const pruned = await pruneExpiredRecords(storage.db, POLICY, NOW);
    expect(pruned.auditEvents).toBe(1500);
    expect(await actions()).toEqual(['new']);
  });

  it('deletes invalidations older than any key cache can need, keeping recent ones and the newest', async () => {
    const at = (created_at: number) => ({ api_key_id: 1, created_at });
    await storage.db
      .insertInto('invalidations')
      .values([at(NOW - INVALIDATION_RETENTION_MS - 1), at(NOW - INVALIDATION_RETENTION_MS + 1_000)])
      .execute();
    expect((await pruneExpiredRecords(storage.db, POLICY, NOW)).invalidations).toBe(1);
    const left = await storage.db.selectFrom('invalidations').select('created_at').execute();
    expect(left.map((r) => r.created_at)).toEqual([NOW - INVALIDATION_RETENTION_MS + 1_000]);

    // The newest row survives however old: a starting cache reads the highest id from it.
    expect((await pruneExpiredRecords(storage.db, POLICY, NOW + DAY)).invalidations).toBe(0);
    expect(await storage.db.selectFrom('invalidations').select('id').execute()).toHaveLength(1);
  });

  it('deletes revoked-token rows once their token has expired, at the denylist resync', async () => {
    await insertRevokedToken(
      storage.db,
      { jti: 'expired', clientId: 'gpk_x', expiresAt: NOW - 1 },
      NOW - DAY,
    );
    await insertRevokedToken(storage.db, { jti: 'live', clientId: 'gpk_x', expiresAt: NOW + 60_000 }, NOW);
    const denylist = new Denylist(storage.db);
    await denylist.resync(NOW);
    const left = await storage.db.selectFrom('revoked_tokens').select('jti').execute();
    expect(left.map((r) => r.jti)).toEqual(['live']);
    expect(denylist.has('live')).toBe(true);
    expect(denylist.has('expired')).toBe(false);
  });

  it('runs the pruning job on its interval, and reports a failure without stopping', async () => {
    await audit('old', Date.now() - 31 * DAY);
    const stop = startRetentionJob(storage.db, POLICY, { intervalMs: 20, onError: () => {} });
    try {
      await vi.waitFor(async () => expect(await actions()).toEqual([]), { timeout: 2000 });
    } finally {
      stop();
    }

    const failing = storage.db.withPlugin({
      transformQuery: () => {
        throw new Error('database unavailable');
      },
      transformResult: async (args) => args.result,
    });
    const errors: unknown[] = [];
    const stopFailing = startRetentionJob(failing, POLICY, {
      intervalMs: 20,
      onError: (e) => errors.push(e),
    });
    try {
      await vi.waitFor(() => expect(errors.length).toBeGreaterThanOrEqual(2), { timeout: 2000 });
    } finally {
      stopFailing();
    }
    expect(String(errors[0])).toContain('database unavailable');
  });
});
