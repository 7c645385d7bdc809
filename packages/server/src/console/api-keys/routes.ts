import type { FastifyInstance } from 'fastify';
import { keyListRoute } from './list.ts';
import { newKeyRoutes } from './new.ts';
import { revokeKeyRoutes } from './revoke.ts';
import { rotateKeyRoute } from './rotate.ts';
import { keyPageRoute } from './show.ts';
import { updateKeyRoute } from './update.ts';

/** The organization's API configuration: its keys, each with its own page. */
export function apiKeyPages(pages: FastifyInstance): void {
  keyListRoute(pages);
  newKeyRoutes(pages);
  keyPageRoute(pages);
  updateKeyRoute(pages);
  rotateKeyRoute(pages);
  revokeKeyRoutes(pages);
}
