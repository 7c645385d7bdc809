import { AUDIT_ACTIONS } from '../../domain/audit-actions.ts';
import { type MemberName, userIdOf } from '../../domain/audit-names.ts';
import type { AuditRecord, Page } from '../../model/types.ts';
import { errorSummary, type FieldErrors, inputField, selectField } from '../forms.ts';
import { html, type SafeHtml } from '../html.ts';
import { pager, when } from '../paging.ts';
import type { AuditFilterForm } from './filters.ts';

export interface AuditLogView {
  /** The path of the page (`/o/1/audit`), for the form, the pager and "Clear filters". */
  path: string;
  form: AuditFilterForm;
  errors: FieldErrors;
  page: number;
  /** The events of this page; undefined when the filters are invalid and nothing was read. */
  events: Page<AuditRecord> | undefined;
  /** The members among the page's `user:<id>` actors and targets. */
  members: Map<number, MemberName>;
}

const MAX_DETAIL = 120;
const MAX_DETAILS = 8;

function filtersForm(view: AuditLogView): SafeHtml {
  const { form, errors } = view;
  const choices = [
    { value: '', label: 'All actions' },
    ...AUDIT_ACTIONS.map((a) => ({ value: a, label: a })),
  ];
  const active = Object.values(form).some(Boolean);
  return html`<form method="get" action="${view.path}" class="audit-filters" role="search" aria-label="Filter events">
<div class="filter-fields">
${selectField({ name: 'action', label: 'Action', choices, value: form.action, hint: 'One kind of event, or all', error: errors.action })}
${inputField({ name: 'actor', label: 'Actor', value: form.actor, hint: 'user:3, key:gpk_…, cli', error: errors.actor, maxlength: 200, autocomplete: 'off' })}
${inputField({ name: 'from', label: 'From', type: 'date', value: form.from, hint: 'From 00:00 UTC', error: errors.from })}
${inputField({ name: 'to', label: 'To', type: 'date', value: form.to, hint: 'Includes the whole day, UTC', error: errors.to })}
</div>
<div class="toolbar-buttons">
<button type="submit" class="primary">Filter</button>
${active ? html`<a href="${view.path}" class="button secondary">Clear</a>` : ''}
</div>
</form>`;
}

/** A `user:<id>` as its email when they are a member; any other reference as it is. */
function who(reference: string | null, members: Map<number, MemberName>): SafeHtml | string {
  if (reference === null) return html`<span class="muted">—</span>`;
  const id = userIdOf(reference);
  const member = id === undefined ? undefined : members.get(id);
  if (!member) return html`<span class="mono">${reference}</span>`;
  return html`<span class="person">${member.email}</span> <span class="mono muted small">${reference}</span>`;
}

function detailValue(value: unknown): string {
  const text =
    typeof value === 'string'
      ? value
      : Array.isArray(value) && value.every((v) => typeof v !== 'object' || v === null)
        ? value.join(', ')
        : JSON.stringify(value);
  return text.length > MAX_DETAIL ? `${text.slice(0, MAX_DETAIL)}…` : text;
}

/** Details as compact `name: value` pairs; values are identifiers only (audit.ts), escaped all the same. */
function details(record: AuditRecord): SafeHtml | string {
  const entries = Object.entries(record.details ?? {});
  if (!entries.length) return html`<span class="muted">—</span>`;
  const shown = entries.slice(0, MAX_DETAILS);
  return html`<ul class="plain details">${shown.map(
    ([name, value]) =>
      html`<li><span class="muted">${name}:</span> <span class="mono">${detailValue(value)}</span></li>`,
  )}${entries.length > shown.length ? html`<li class="muted">and ${entries.length - shown.length} more</li>` : ''}</ul>`;
}

function row(record: AuditRecord, members: Map<number, MemberName>): SafeHtml {
  return html`<tr>
<td data-label="When (UTC)" class="nowrap">${when(Date.parse(record.createdAt)).replace(' UTC', '')}</td>
<td data-label="Action"><code>${record.action}</code></td>
<td data-label="Actor">${who(record.actor, members)}</td>
<td data-label="Target">${who(record.target, members)}</td>
<td data-label="IP"><span class="mono">${record.ip ?? '—'}</span></td>
<td data-label="Details">${details(record)}</td>
</tr>`;
}

function table(view: AuditLogView, events: Page<AuditRecord>): SafeHtml {
  return html`<div class="table-wrap"><table class="list audit">
<thead><tr><th scope="col">When (UTC)</th><th scope="col">Action</th><th scope="col">Actor</th><th scope="col">Target</th><th scope="col">IP</th><th scope="col">Details</th></tr></thead>
<tbody>
${events.items.map((record) => row(record, view.members))}
</tbody>
</table></div>`;
}

function results(view: AuditLogView): SafeHtml {
  const { events } = view;
  if (!events) return html`<div class="empty"><p>Correct the filters above to see events.</p></div>`;
  const filtered = Object.values(view.form).some(Boolean);
  const filters = { ...view.form };
  if (!events.items.length) {
    if (events.total > 0)
      return html`<div class="empty"><p>There are no events on this page.</p><a class="button secondary" href="${view.path}">Go to the newest events</a></div>`;
    return filtered
      ? html`<div class="empty"><p>No events match these filters.</p><a class="button secondary" href="${view.path}">Clear filters</a></div>`
      : html`<div class="empty"><p>No events yet. Changes to this organization’s keys, workspaces and members, and failed sign-ins of its members, will appear here.</p></div>`;
  }
  return html`${table(view, events)}
${pager(view.path, filters, view.page, events.total) || html`<p class="muted small pager">${events.total === 1 ? '1 event' : `${events.total} events`}</p>`}`;
}

/** The organization's audit log: newest first, filtered by action, actor and days, a page at a time. */
export function auditLogPage(view: AuditLogView): SafeHtml {
  return html`<div class="page-head"><h1>Audit log</h1></div>
<p class="muted">Every change to this organization, newest first. Times are UTC.</p>
${errorSummary(view.errors)}
${filtersForm(view)}
${results(view)}`;
}
