import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { FastifyInstance, RouteOptions } from 'fastify';

/** A route as Fastify registered it: one method and the declared pattern (prefix included). */
export interface RegisteredRoute {
  method: string;
  path: string;
}

/**
 * Runs `build` (which creates a Fastify app) and returns what it built with every route registered on
 * that app while building it.
 *
 * Fastify has no API that lists routes, and `buildApp` takes no hook, so the collector reaches the
 * instance through Fastify's documented `fastify.initialization` diagnostics channel (Hooks reference,
 * "Diagnostics Channel Hooks"): it is published synchronously when `Fastify()` creates an instance,
 * before `buildApp` registers anything, and an `onRoute` hook added there is inherited by every
 * encapsulated scope registered later, so each route is seen with its final method and URL. The
 * alternatives were worse: parsing `printRoutes()` depends on a text layout that splits paths on shared
 * prefixes and changes between versions, and `hasRoute()` can only confirm routes one already knows.
 *
 * HEAD routes are left out when a GET is registered on the same path (with or without a trailing
 * slash, as for a prefixed plugin's root): Fastify adds those itself (`exposeHeadRoutes`) and they run
 * the GET's handler. An explicit HEAD-only route is still reported.
 */
export async function collectRoutes<T extends { app: FastifyInstance }>(
  build: () => Promise<T>,
): Promise<{ built: T; routes: RegisteredRoute[] }> {
  const byApp = new Map<FastifyInstance, RegisteredRoute[]>();
  const onInitialization = (message: unknown) => {
    // The channel's message is `{ fastify }` (fastify.js publishes exactly that).
    const { fastify } = message as { fastify: FastifyInstance };
    const routes: RegisteredRoute[] = [];
    byApp.set(fastify, routes);
    fastify.addHook('onRoute', (options: RouteOptions) => {
      const methods = Array.isArray(options.method) ? options.method : [options.method];
      for (const method of methods) routes.push({ method: String(method).toUpperCase(), path: options.url });
    });
  };
  subscribe('fastify.initialization', onInitialization);
  let built: T;
  try {
    built = await build();
  } finally {
    unsubscribe('fastify.initialization', onInitialization);
  }
  const all = byApp.get(built.app);
  if (!all) throw new Error('the app was not created through Fastify() while collecting its routes');
  const withoutSlash = (path: string) => (path.length > 1 ? path.replace(/\/$/, '') : path);
  const gets = new Set(all.filter((r) => r.method === 'GET').map((r) => withoutSlash(r.path)));
  const routes = all.filter((r) => !(r.method === 'HEAD' && gets.has(withoutSlash(r.path))));
  return { built, routes };
}

/** `METHOD /path`, the form routes are compared and reported in. */
export const routeKey = (route: { method: string; path: string }) => `${route.method} ${route.path}`;
