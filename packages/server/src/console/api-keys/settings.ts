import { checkLabel, checkList, checkOrigin, checkRedirectUri } from '../../domain/validation.ts';
import { ProblemError } from '../../errors/errors.ts';
import { type FieldErrors, fieldErrorsOf, linesOf } from '../forms.ts';
import type { KeySettingsInput } from './views.ts';

function errorsOf(check: () => unknown): FieldErrors {
  try {
    check();
    return {};
  } catch (error) {
    if (error instanceof ProblemError && error.code === 'validation_failed')
      return fieldErrorsOf(error.errors);
    throw error;
  }
}

/**
 * The errors of a key's settings as typed, every field at once (the domain stops at the first): the
 * same checks as the domain's, which runs them again on the way in.
 */
export function checkSettings(input: KeySettingsInput): FieldErrors {
  return {
    ...errorsOf(() => checkLabel(input.label)),
    ...errorsOf(() => checkList(linesOf(input.redirectUris), 'redirectUris', checkRedirectUri)),
    ...errorsOf(() => checkList(linesOf(input.corsOrigins), 'corsOrigins', checkOrigin)),
  };
}
