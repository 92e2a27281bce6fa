import type { Harness } from './harness.js';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __e2eHarness?: Harness }).__e2eHarness?.stop();
}
