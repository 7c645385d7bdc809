import { ConfigError } from '../config/config.ts';
import { ProblemError } from '../errors/errors.ts';

/** How a command reports: one JSON object on stdout with --json, readable lines otherwise. */
export interface Output {
  json: boolean;
  /** The command's result. */
  result(value: unknown, human: () => string): void;
}

export function createOutput(json: boolean): Output {
  return {
    json,
    result(value, human) {
      process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${human()}\n`);
    },
  };
}

/** A mistake in how the command was called. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Reports an error and returns the exit code: 2 for usage and configuration, 1 otherwise. */
export function reportError(error: unknown, json: boolean): number {
  let code = 'internal';
  let message = 'unexpected error';
  let exit = 1;
  if (error instanceof UsageError) [code, message, exit] = ['usage', error.message, 2];
  else if (error instanceof ConfigError) [code, message, exit] = ['config', error.message, 2];
  else if (error instanceof ProblemError) [code, message] = [error.code, error.message];
  else if (error instanceof Error) message = error.message;
  if (json) process.stdout.write(`${JSON.stringify({ error: { code, message } })}\n`);
  else process.stderr.write(`gatehouse: ${message}\n`);
  return exit;
}
