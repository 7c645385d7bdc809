import type { FastifyInstance } from 'fastify';
import { createWorkspaceRoute } from './create.ts';
import { workspaceListRoute } from './list.ts';
import { newWorkspaceRoute } from './new.ts';
import { workspacePageRoute } from './page.ts';
import { renameWorkspaceRoute } from './rename.ts';
import { workspaceStateRoutes } from './state.ts';

/** The organization's workspaces pages: list, create, rename, archive and restore. */
export function workspacePages(pages: FastifyInstance): void {
  workspaceListRoute(pages);
  newWorkspaceRoute(pages);
  createWorkspaceRoute(pages);
  workspacePageRoute(pages);
  renameWorkspaceRoute(pages);
  workspaceStateRoutes(pages);
}
