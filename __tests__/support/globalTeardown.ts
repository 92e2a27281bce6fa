/** Stops the stack globalSetup.ts started. */
export default async function globalTeardown(): Promise<void> {
  const stack = globalThis.__RTK_TEST_STACK__;
  globalThis.__RTK_TEST_STACK__ = undefined;
  delete process.env.RTK_TEST_STACK;
  await stack?.stop();
}
