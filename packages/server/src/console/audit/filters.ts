import { isAuditAction } from '../../domain/audit-actions.ts';
import type { AuditFilter } from '../../domain/audit-log.ts';
import { type FieldErrors, textOf } from '../forms.ts';
import { pageOf } from '../paging.ts';

/** The filters as typed (echoed back into the form, escaped, whatever they are). */
export interface AuditFilterForm {
  action: string;
  actor: string;
  from: string;
  to: string;
}

/** The audit log's query, read: the filter to apply, or the errors to show beside the fields. */
export interface AuditQuery {
  form: AuditFilterForm;
  filter: AuditFilter;
  errors: FieldErrors;
  page: number;
}

const DAY_MS = 86_400_000;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
/** What the log records as actors (audit.ts): the operator, the server, a user, a key, nobody. */
const ACTOR = /^(cli|system|anonymous|user:[1-9]\d{0,9}|key:gpk_[0-9A-Za-z]{24})$/;

/** Midnight UTC of a `YYYY-MM-DD` day (what `<input type="date">` sends), or undefined if it is none. */
export function dayOf(value: string): number | undefined {
  const match = DATE.exec(value);
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const time = Date.UTC(year, month - 1, day);
  // Date.UTC rolls 2025-02-30 over into March: a day that does not round-trip does not exist.
  const date = new Date(time);
  if (year < 1970 || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  return time;
}

/**
 * Reads the audit log's query string. Every filter is optional; an invalid one is reported beside
 * its field (and the log is not read) rather than silently ignored. Days are UTC, and `to` includes
 * the whole of its day.
 */
export function readAuditQuery(query: unknown): AuditQuery {
  const fields = typeof query === 'object' && query !== null ? (query as Record<string, unknown>) : {};
  const form = {
    action: textOf(fields.action, 100).trim(),
    actor: textOf(fields.actor, 200).trim(),
    from: textOf(fields.from, 20).trim(),
    to: textOf(fields.to, 20).trim(),
  };
  const errors: FieldErrors = {};
  const filter: AuditFilter = {};
  if (form.action) {
    if (isAuditAction(form.action)) filter.action = form.action;
    else errors.action = 'Choose an action from the list.';
  }
  if (form.actor) {
    if (ACTOR.test(form.actor)) filter.actor = form.actor;
    else errors.actor = 'Enter an actor such as user:3, key:gpk_… (a public key), cli, system or anonymous.';
  }
  if (form.from) {
    const from = dayOf(form.from);
    if (from === undefined) errors.from = 'Enter a date as YYYY-MM-DD.';
    else filter.from = from;
  }
  if (form.to) {
    const to = dayOf(form.to);
    if (to === undefined) errors.to = 'Enter a date as YYYY-MM-DD.';
    else if (filter.from !== undefined && to < filter.from)
      errors.to = 'Enter a day on or after the From day.';
    else filter.to = to + DAY_MS;
  }
  return { form, filter, errors, page: pageOf(fields.page) };
}
