import type { Output } from '../output.ts';
import { UsageError } from '../output.ts';
import { addMemberCommand } from './members.ts';

const USAGE =
  'usage: gatehouse users create --tenant ID --email E [--password P] --role owner|admin|member ' +
  '[--workspace ID]... [--display-name NAME]   (the same as `gatehouse members add`)';

/** `gatehouse users create`: kept for scripts written before `members add`, which it is. */
export async function users(args: string[], out: Output): Promise<void> {
  const [sub, ...rest] = args;
  if (sub !== 'create') throw new UsageError(USAGE);
  await addMemberCommand(rest, out);
}
