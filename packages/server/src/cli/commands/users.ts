import { command, group } from '../spec.ts';
import { add, list } from './members.ts';

/**
 * `gatehouse users ...`: the people of an organization, under the name most look for first. `users create`
 * is `members add` (kept for scripts written before it) and `users list` is `members list`.
 */
export const users = group({
  name: 'users',
  summary: 'the same as members: create is members add, list is members list',
  subcommands: [
    command({ ...add, name: 'create', summary: `the same as members add: ${add.summary}` }),
    command({ ...list, summary: `the same as members list: ${list.summary}` }),
  ],
});
