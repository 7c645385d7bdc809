import type { FieldError } from '../errors/errors.ts';
import { CSRF_FIELD } from '../http/session/csrf.ts';
import { html, type SafeHtml } from './html.ts';

/** A form's errors by field name: what the page shows beside each input. */
export type FieldErrors = Record<string, string>;

/**
 * Maps a problem's field errors onto form fields: `redirectUris/2` is the third line of the
 * `redirectUris` box.
 */
export function fieldErrorsOf(
  errors: readonly FieldError[],
  rename: Record<string, string> = {},
): FieldErrors {
  const out: FieldErrors = {};
  for (const { field, message } of errors) {
    const [base = field, index] = field.split('/');
    const name = rename[base] ?? base;
    const line = index !== undefined && /^\d+$/.test(index) ? `Line ${Number(index) + 1}: ` : '';
    const text = line ? message : message.charAt(0).toUpperCase() + message.slice(1);
    // Every wrong line of a box is named; other fields keep their first error.
    if (out[name] === undefined) out[name] = `${line}${text}`;
    else if (line) out[name] += ` ${line}${text}`;
  }
  return out;
}

/** The hidden CSRF field every form carries. */
export function csrfField(token: string): SafeHtml {
  return html`<input type="hidden" name="${CSRF_FIELD}" value="${token}">`;
}

interface FieldBase {
  name: string;
  label: string;
  error?: string | undefined;
  hint?: string | SafeHtml | undefined;
  /** Defaults to the name; unique within the page. */
  id?: string;
}

function describedBy(id: string, field: FieldBase): SafeHtml | string {
  const ids = [field.hint ? `${id}-hint` : '', field.error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return ids ? html` aria-describedby="${ids}"` : '';
}

function around(id: string, field: FieldBase, control: SafeHtml): SafeHtml {
  return html`<div class="field${field.error ? ' has-error' : ''}">
<label for="${id}">${field.label}</label>
${field.hint ? html`<p class="hint" id="${id}-hint">${field.hint}</p>` : ''}
${control}
${field.error ? html`<p class="field-error" id="${id}-error">${field.error}</p>` : ''}
</div>`;
}

export interface InputField extends FieldBase {
  value?: string | undefined;
  type?: 'text' | 'email' | 'password' | 'search' | 'date' | 'datetime-local' | 'number';
  required?: boolean;
  maxlength?: number;
  autocomplete?: string;
}

/** A labelled input; an error is shown beside it and announced with it (aria-describedby, aria-invalid). */
export function inputField(field: InputField): SafeHtml {
  const id = field.id ?? field.name;
  return around(
    id,
    field,
    html`<input id="${id}" name="${field.name}" type="${field.type ?? 'text'}" value="${field.value ?? ''}"${field.required ? html` required` : ''}${field.maxlength ? html` maxlength="${field.maxlength}"` : ''}${field.autocomplete ? html` autocomplete="${field.autocomplete}"` : ''}${field.error ? html` aria-invalid="true"` : ''}${describedBy(id, field)}>`,
  );
}

export interface TextAreaField extends FieldBase {
  value?: string | undefined;
  rows?: number;
}

/** A labelled text box (one value per line). */
export function textAreaField(field: TextAreaField): SafeHtml {
  const id = field.id ?? field.name;
  return around(
    id,
    field,
    html`<textarea id="${id}" name="${field.name}" rows="${field.rows ?? 3}" spellcheck="false" autocapitalize="off"${field.error ? html` aria-invalid="true"` : ''}${describedBy(id, field)}>${field.value ?? ''}</textarea>`,
  );
}

export interface Choice {
  value: string;
  label: string;
}

export interface SelectField extends FieldBase {
  choices: readonly Choice[];
  value?: string | undefined;
}

/** A labelled drop-down list. */
export function selectField(field: SelectField): SafeHtml {
  const id = field.id ?? field.name;
  return around(
    id,
    field,
    html`<select id="${id}" name="${field.name}"${field.error ? html` aria-invalid="true"` : ''}${describedBy(id, field)}>${field.choices.map(
      (c) =>
        html`<option value="${c.value}"${c.value === field.value ? html` selected` : ''}>${c.label}</option>`,
    )}</select>`,
  );
}

/** The lines of a text box, trimmed, blank ones dropped. */
export function linesOf(value: unknown): string[] {
  if (typeof value !== 'string') return [];
  return value
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean);
}

/** A text field of a posted form ('' when absent or not text). */
export function textOf(value: unknown, max = 10_000): string {
  return typeof value === 'string' ? value.slice(0, max) : '';
}

/** A summary of a form's errors at its top, so that they are announced and reachable. */
export function errorSummary(errors: FieldErrors, general?: string): SafeHtml | string {
  const count = Object.keys(errors).length;
  if (!count && !general) return '';
  return html`<div class="error" role="alert" id="form-errors">${general ?? `Check the ${count === 1 ? 'field' : `${count} fields`} marked below.`}</div>`;
}
