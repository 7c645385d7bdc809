import { ConfigError } from '../config/config.ts';
import { ProblemError } from '../errors/errors.ts';

/**
 * How a command reports. stdout carries only the result (one JSON object with --json), so that it can be
 * piped; progress and errors go to stderr, every line prefixed `gatehouse: `.
 */
export interface Output {
  readonly json: boolean;
  readonly quiet: boolean;
  /** The command's result. */
  result(value: unknown, human: () => string): void;
  /** A progress line on stderr (which database, migrations), unless --quiet. */
  info(line: string): void;
}

export function createOutput(options: { json: boolean; quiet: boolean }): Output {
  return {
    ...options,
    result(value, human) {
      process.stdout.write(options.json ? `${JSON.stringify(value)}\n` : `${human()}\n`);
    },
    info(line) {
      if (!options.quiet) process.stderr.write(`gatehouse: ${line}\n`);
    },
  };
}

/** A mistake in how the command was called (exit 2): nothing was done. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A failure while running (exit 1) that is not a problem of the domain: an unreachable database or server. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Reports an error on stderr and returns the exit code: 2 when the command or its settings are wrong
 * (usage, configuration: nothing was done), 1 when running it failed. With --json the line on stderr is
 * `{"error": {"code", "message"}}`; stdout stays empty, so that it only ever holds results.
 */
export function reportError(error: unknown, json: boolean): number {
  let code = 'internal';
  let message = 'unexpected error';
  let exit = 1;
  if (error instanceof UsageError) [code, message, exit] = ['usage', error.message, 2];
  else if (error instanceof ConfigError) [code, message, exit] = ['config', error.message, 2];
  else if (error instanceof ProblemError || error instanceof CliError)
    [code, message] = [error.code, error.message];
  else if (error instanceof Error) message = error.message;
  process.stderr.write(
    json ? `${JSON.stringify({ error: { code, message } })}\n` : `gatehouse: ${message}\n`,
  );
  return exit;
}
