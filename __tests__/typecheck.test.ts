/**
 * ts-jest only transpiles (isolatedModules), so type errors, including the type-level assertions in
 * __tests__/postgrest/types.test.ts, would pass unnoticed: the whole project must type-check.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const root = path.resolve(import.meta.dirname, '..');

it('the project type-checks under strict TypeScript', async () => {
  const result = await promisify(execFile)('npx', ['tsc', '--noEmit', '-p', root], { cwd: root, timeout: 170_000 }).then(
    () => '',
    (e: { stdout?: string }) => e.stdout ?? String(e),
  );
  expect(result).toBe('');
}, 180_000);
