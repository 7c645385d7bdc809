import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { CliError } from './output.ts';

/** Whether the command may ask: stdin is a terminal (not a pipe, a file, or a CI job). */
export const canPrompt = (): boolean => process.stdin.isTTY === true;

/**
 * Asks for a secret on the terminal without showing it: the question goes to stderr (stdout carries only
 * results), and what is typed is not echoed. readline puts the terminal in raw mode and echoes through
 * its output, which is muted once the question is written.
 */
export function askHidden(question: string): Promise<string> {
  let muted = false;
  const output = new Writable({
    write(chunk, _encoding, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  return new Promise((resolve, reject) => {
    rl.on('SIGINT', () => {
      rl.close();
      process.stderr.write('\n');
      reject(new CliError('cancelled', 'cancelled'));
    });
    rl.question(question, (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
    muted = true;
  });
}

/**
 * A new password, typed twice: a typo in a hidden password would lock its owner out. An empty answer is
 * returned as is (the caller decides what it means).
 */
export async function askNewPassword(what: string): Promise<string> {
  const password = await askHidden(`${what}: `);
  if (password === '') return password;
  const again = await askHidden('Repeat it: ');
  if (again !== password)
    throw new CliError('passwords_differ', 'the two passwords differ; nothing was changed');
  return password;
}
