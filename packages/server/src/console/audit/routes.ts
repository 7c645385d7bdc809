import type { FastifyInstance } from 'fastify';
import { auditLogPageRoute } from './page.ts';

/** The organization's audit pages. */
export function auditPages(pages: FastifyInstance): void {
  auditLogPageRoute(pages);
}
