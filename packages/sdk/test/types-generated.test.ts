import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { generateTypes, OUTPUT } from '../scripts/generate-types.ts';

it('src/types.gen.ts is what the OpenAPI document generates today (run npm run generate -w @gatehouse/sdk)', async () => {
  expect(await generateTypes()).toBe(readFileSync(OUTPUT, 'utf8'));
});
