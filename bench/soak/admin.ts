import { setTimeout as sleep } from 'node:timers/promises';
import { pick } from './ledger.ts';
import type { SoakClient } from './seed.ts';
import { probe, running, type Workload } from './workload.ts';

/** Pause between two admin cycles: admin changes are a trickle next to API calls, as in real use. */
const CYCLE_PAUSE_MS = 500;
/** A pool key is rotated this often, round robin, with a grace period its users never notice. */
const POOL_ROTATION_MS = 20_000;
const POOL_GRACE_SECONDS = 120;

interface IssuedKey {
  publicKey?: string;
  privateKey?: string;
  label?: string;
}

const admin = (key: SoakClient) => ({ 'x-api-key': key.privateKey });

/** Creates a key in B and uses it at once; returns it, or null when the server did not acknowledge it. */
async function createKey(
  w: Workload,
  cycle: number,
): Promise<{ publicKey: string; privateKey: string } | null> {
  const label = `soak key ${cycle}`;
  const answer = await w.http.send('keyCreate', '/v1/api-keys', {
    headers: admin(w.seed.adminB),
    json: { label, permissions: cycle % 4 === 0 ? 'read' : 'write' },
  });
  if (answer.status !== 201) return null;
  const body = w.http.json<IssuedKey>('keyCreate', answer);
  if (!body?.publicKey || !body.privateKey || body.label !== label) {
    w.http.wrong('keyCreate', 'the created key is not in the answer', answer.text.slice(0, 80));
    return null;
  }
  w.ledger.keys.set(body.publicKey, { label, privateKey: body.privateKey, revoked: false });
  w.ledger.acknowledged.keyCreated++;
  await useKey(w, body.privateKey);
  return { publicKey: body.publicKey, privateKey: body.privateKey };
}

async function useKey(w: Workload, privateKey: string): Promise<void> {
  const answer = await w.http.send('keyUse', '/me', { headers: { 'x-api-key': privateKey } });
  if (answer.status === 200 && !answer.text.includes(`"tenantId":${w.seed.tenantB}`))
    w.http.wrong('keyUse', 'another principal than the new key', answer.text.slice(0, 80));
}

/** PATCH, rotate (grace 0: the old secret must die at once) and, every other cycle, revoke. */
async function changeKey(w: Workload, cycle: number, key: { publicKey: string; privateKey: string }) {
  const path = `/v1/api-keys/${key.publicKey}`;
  const label = `soak key ${cycle} renamed`;
  const patched = await w.http.send('keyPatch', path, {
    method: 'PATCH',
    headers: admin(w.seed.adminB),
    json: { label },
  });
  const record = w.ledger.keys.get(key.publicKey);
  if (patched.status === 200 && record) {
    if (w.http.json<IssuedKey>('keyPatch', patched)?.label !== label)
      w.http.wrong('keyPatch', 'the answer shows another label', patched.text.slice(0, 80));
    record.label = label;
    w.ledger.acknowledged.keyPatched++;
  }
  let current = key.privateKey;
  const rotated = await w.http.send('keyRotate', `${path}/rotate`, {
    headers: admin(w.seed.adminB),
    json: { graceSeconds: 0 },
  });
  const fresh = rotated.status === 200 ? w.http.json<IssuedKey>('keyRotate', rotated)?.privateKey : undefined;
  if (fresh && record) {
    record.privateKey = fresh;
    current = fresh;
    w.ledger.acknowledged.keyRotated++;
    await useKey(w, fresh);
    await probe(w, 'oldSecret', '/me', { 'x-api-key': key.privateKey });
  }
  if (cycle % 2 === 1) return;
  const revoked = await w.http.send('keyRevoke', path, { method: 'DELETE', headers: admin(w.seed.adminB) });
  if (revoked.status === 204 && record) {
    record.revoked = true;
    w.ledger.acknowledged.keyRevoked++;
    await probe(w, 'revokedKey', '/me', { 'x-api-key': current });
  }
}

/** A new workspace every third cycle; otherwise one of them renamed. */
async function changeWorkspaces(w: Workload, cycle: number): Promise<void> {
  const headers = admin(w.seed.adminB);
  if (cycle % 3 === 0 || w.ledger.workspaces.size === 0) {
    const label = `soak workspace ${cycle}`;
    const answer = await w.http.send('workspaceCreate', '/v1/workspaces', { headers, json: { label } });
    const id =
      answer.status === 201 ? w.http.json<{ id?: number }>('workspaceCreate', answer)?.id : undefined;
    if (id === undefined) return;
    w.ledger.workspaces.set(id, label);
    w.ledger.acknowledged.workspaceCreated++;
    return;
  }
  const id = pick([...w.ledger.workspaces.keys()]);
  const label = `soak workspace ${id} renamed ${cycle}`;
  const answer = await w.http.send('workspaceRename', `/v1/workspaces/${id}`, {
    method: 'PATCH',
    headers,
    json: { label },
  });
  if (answer.status !== 200) return;
  w.ledger.workspaces.set(id, label);
  w.ledger.acknowledged.workspaceRenamed++;
}

/**
 * Rotates the next pool key with a grace period. The lanes switch to the new secret at once; requests
 * already sent with the old one still pass, so the API lanes must never see a 401 from a rotation.
 */
async function rotatePoolKey(w: Workload, turn: number): Promise<void> {
  const key = w.seed.pool[turn % w.seed.pool.length];
  if (!key) return;
  const answer = await w.http.send('keyRotate', `/v1/api-keys/${key.publicKey}/rotate`, {
    headers: admin(w.seed.adminA),
    json: { graceSeconds: POOL_GRACE_SECONDS },
  });
  const fresh = answer.status === 200 ? w.http.json<IssuedKey>('keyRotate', answer)?.privateKey : undefined;
  if (!fresh) return;
  key.privateKey = fresh;
  w.ledger.acknowledged.poolRotated++;
}

/**
 * Admin changes through the admin API, as an organization's automation makes them: keys created,
 * used, renamed, rotated and revoked in tenant B, workspaces created and renamed there, lists and the
 * audit log read, and tenant A's pool keys rotated under the API traffic.
 */
export async function adminLane(w: Workload): Promise<void> {
  let nextPoolRotation = Date.now() + POOL_ROTATION_MS / 2;
  let turn = 0;
  for (let cycle = 0; running(w); cycle++) {
    const key = await createKey(w, cycle);
    if (key) await changeKey(w, cycle, key);
    await changeWorkspaces(w, cycle);
    if (cycle % 5 === 4) {
      await w.http.send('keyList', '/v1/api-keys?page=1&size=20', { headers: admin(w.seed.adminB) });
      await w.http.send('auditList', '/v1/audit-events?page=1&size=20', { headers: admin(w.seed.adminB) });
    }
    if (Date.now() >= nextPoolRotation) {
      await rotatePoolKey(w, turn++);
      nextPoolRotation += POOL_ROTATION_MS;
    }
    await sleep(Math.max(0, Math.min(CYCLE_PAUSE_MS, w.until - Date.now())));
  }
}
