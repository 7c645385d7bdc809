import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { expect, it } from 'vitest';
import { generatedFiles } from '../scripts/generate-types.ts';

it('src/types.gen.ts and src/operations.gen.ts are what the OpenAPI document generates today (run npm run generate -w @gatehouse/sdk)', async () => {
  for (const file of await generatedFiles()) {
    expect(readFileSync(file.path, 'utf8'), `${relative(process.cwd(), file.path)} is stale`).toBe(file.text);
  }
});
