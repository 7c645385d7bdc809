import { type Kysely, sql } from 'kysely';
import type { Dialect } from './helpers.ts';

/**
 * Tables whose committed changes some instance caches, and what a notification of each carries.
 * `columns` are copied from the changed row into the payload (a row trigger); none: one notification
 * per statement. Only the events that matter to a cache fire: the feed rows and revocations are only
 * ever pruned by age once no cache needs them, so their deletes notify nobody.
 */
const NOTIFYING_TABLES: readonly { table: string; events: string; columns: readonly string[] }[] = [
  // Every key and secret change writes a feed row (domain/api-keys.ts): the key caches poll the feed.
  { table: 'invalidations', events: 'insert', columns: [] },
  // The revoked jti itself, so that a denylist adds it without a read (and whatever its id's order).
  { table: 'revoked_tokens', events: 'insert', columns: ['jti', 'client_id', 'expires_at'] },
  { table: 'signing_keys', events: 'insert or update or delete', columns: [] },
  // The user whose role, workspaces or consents changed, so that only their tokens are re-resolved.
  { table: 'memberships', events: 'insert or update or delete', columns: ['user_id'] },
  { table: 'membership_workspaces', events: 'insert or update or delete', columns: ['user_id'] },
  { table: 'consents', events: 'insert or update or delete', columns: ['user_id'] },
];

/**
 * Push invalidation on PostgreSQL (DESIGN.md 2 "Hot paths"): every committed change to the tables
 * above sends `pg_notify` on this schema's channel, from a trigger, so inside the change's own
 * transaction: PostgreSQL delivers a notification when, and only if, its transaction commits
 * (https://www.postgresql.org/docs/current/sql-notify.html). Each instance LISTENs on the channel
 * (storage/notifications.ts) and applies a change on receipt; polling remains the safety net.
 *
 * The channel is `gatehouse_changes.<schema>`, so that instances on different schemas of one database
 * (every test file has its own) do not wake each other; a schema name too long for a channel (63
 * bytes) is replaced by its md5. The payload is JSON: `table`, `at` (the server's clock when the
 * change was written, epoch ms, from which the listener measures its lag) and the row's `columns`.
 *
 * SQLite has one writer and no LISTEN: its instances poll, and it gets nothing here.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  if (dialect !== 'postgres') return;
  await sql`
    create function gatehouse_change_channel(schema_name text) returns text
    language sql immutable strict as $$
      select 'gatehouse_changes.' ||
        case when octet_length(schema_name) <= 45 then schema_name else md5(schema_name) end
    $$`.execute(db);
  // `set search_path from current`: the channel function is found in this schema whatever the search
  // path of the session that writes.
  await sql`
    create function gatehouse_notify_change() returns trigger
    language plpgsql set search_path from current as $$
    declare
      payload jsonb := jsonb_build_object(
        'table', tg_table_name,
        'at', floor(extract(epoch from clock_timestamp()) * 1000)::bigint);
      changed jsonb;
    begin
      if tg_level = 'ROW' then
        changed := to_jsonb(case when tg_op = 'DELETE' then old else new end);
        for i in 0 .. tg_nargs - 1 loop
          payload := payload || jsonb_build_object(tg_argv[i], changed -> tg_argv[i]);
        end loop;
      end if;
      perform pg_notify(gatehouse_change_channel(tg_table_schema), payload::text);
      return null;
    end
    $$`.execute(db);
  for (const { table, events, columns } of NOTIFYING_TABLES) {
    const level = columns.length ? 'row' : 'statement';
    const args = columns.map((column) => `'${column}'`).join(', ');
    // Names are this file's constants, never input.
    await sql
      .raw(
        `create trigger ${table}_notify after ${events} on ${table} for each ${level} execute function gatehouse_notify_change(${args})`,
      )
      .execute(db);
  }
}
