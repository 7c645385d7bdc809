import { OAuthError } from '../../src/errors/errors.ts';

/** The OAuthError `run` throws; fails the test when it throws nothing or something else. */
export function refusal(run: () => unknown): OAuthError {
  try {
    run();
  } catch (error) {
    if (error instanceof OAuthError) return error;
    throw error;
  }
  throw new Error('expected an OAuthError, nothing was thrown');
}
