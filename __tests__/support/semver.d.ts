// The parts of `semver` (installed with the test tools) that package.test.ts uses.
declare module 'semver' {
  export function satisfies(version: string, range: string): boolean;
  export function validRange(range: string): string | null;
  export function prerelease(version: string): ReadonlyArray<string | number> | null;
  const semver: { satisfies: typeof satisfies; validRange: typeof validRange; prerelease: typeof prerelease };
  export default semver;
}
