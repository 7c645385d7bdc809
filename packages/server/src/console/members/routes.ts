import type { FastifyInstance } from 'fastify';
import { addMemberRoute } from './add.ts';
import { memberListRoute } from './list.ts';
import { newMemberRoute } from './new.ts';
import { memberPageRoute } from './page.ts';
import { removeMemberRoutes } from './remove.ts';
import { updateMemberRoute } from './update.ts';

/** The organization's members pages: list, add, change role and workspaces, remove. */
export function memberPages(pages: FastifyInstance): void {
  memberListRoute(pages);
  newMemberRoute(pages);
  addMemberRoute(pages);
  memberPageRoute(pages);
  updateMemberRoute(pages);
  removeMemberRoutes(pages);
}
