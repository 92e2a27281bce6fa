#!/usr/bin/env node
// The published executable: runs the built CLI (tsup builds lib/server/cli/main.ts to dist/cli.js).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  process.stderr.write(
    `rtk-postgrest: ${fileURLToPath(cli)} is missing: build the package first (npm run build),\n` +
      'or run the CLI from source: npx tsx lib/server/cli/main.ts dev --sql schema.sql\n',
  );
  process.exit(1);
}
await import(cli.href);
