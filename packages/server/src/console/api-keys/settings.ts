import { ID_TOKEN_ALGORITHMS } from '../../domain/api-keys.ts';
import { checkLabel, checkList, checkOrigin, checkRedirectUri } from '../../domain/validation.ts';
import { ProblemError } from '../../errors/errors.ts';
import type { IdTokenAlgorithm } from '../../model/types.ts';
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
    ...errorsOf(() =>
      checkList(linesOf(input.postLogoutRedirectUris), 'postLogoutRedirectUris', checkRedirectUri),
    ),
    ...(isIdTokenAlgorithm(input.idTokenSignedResponseAlg)
      ? {}
      : { idTokenSignedResponseAlg: 'Choose an ID token algorithm from the list.' }),
  };
}

/** One of the ID token algorithms the form offers (the select's values). */
export function isIdTokenAlgorithm(value: string): value is IdTokenAlgorithm {
  return (ID_TOKEN_ALGORITHMS as readonly string[]).includes(value);
}
