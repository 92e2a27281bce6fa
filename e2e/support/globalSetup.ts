/** Builds Storybook (into storybook-static/) and starts the harness the browser tests use; globalTeardown.ts stops it. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

// Jest runs global setup through a CommonJS transform, in which lib/server (ES modules using
// import.meta) cannot load: tsx's loader imports the harness as real ESM, and `new Function` keeps
// this import() from being compiled into require() (as __tests__/support/globalSetup.ts does).
const nativeImport = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

export default async function globalSetup(): Promise<void> {
  const { tsImport } = (await nativeImport('tsx/esm/api')) as typeof import('tsx/esm/api');
  const load = <T>(file: string) => tsImport(pathToFileURL(path.join(__dirname, file)).href, pathToFileURL(__filename).href) as Promise<T>;
  const { root, storybookBin } = await load<typeof import('../../scripts/demoStack.js')>('../../scripts/demoStack.ts');
  const { startHarness } = await load<typeof import('./harness.js')>('./harness.ts');

  const staticDir = path.join(root, 'storybook-static');
  await promisify(execFile)(process.execPath, [storybookBin(), 'build', '-o', staticDir, '--quiet'], { cwd: root, timeout: 170_000 });
  const harness = await startHarness(staticDir);
  process.env.RTK_E2E = JSON.stringify(harness.info);
  (globalThis as { __e2eHarness?: typeof harness }).__e2eHarness = harness;
}
