import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import type { TestProject } from 'vitest/node';
import { bundle } from '../../scripts/bundle.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The `gatehouse` bundle of this run's sources (see {@link CLI_BUNDLE} in cli.ts). */
    gatehouseCliBundle: string;
  }
}

/**
 * Vitest global setup: bundles the sources once per run, as `npm start` does, inside the package (its
 * dependencies resolve from node_modules), and removes the bundle after the run. Starting the bundle
 * takes a fraction of a second; starting the sources through tsx's loader takes seconds of CPU per
 * process, and the CLI tests start hundreds.
 */
export default async function setup(project: TestProject): Promise<() => void> {
  const dist = resolve(import.meta.dirname, '../../.test-bundle', randomBytes(6).toString('hex'));
  project.provide('gatehouseCliBundle', await bundle(dist));
  return () => rmSync(dist, { recursive: true, force: true });
}
