/** Writes the bundle into `dist` (emptied first); returns the path of gatehouse.mjs. */
export function bundle(dist: string): Promise<string>;
