/** The `rtk-postgrest` executable (built to dist/cli.js; run from source with `npx tsx lib/server/cli/main.ts`). */
import { runCli } from './run.js';

const io = {
  out: (line: string) => process.stdout.write(`${line}\n`),
  err: (line: string) => process.stderr.write(`${line}\n`),
};

// Exit explicitly (idle keep-alive sockets must not hold the process), once output is flushed.
const exit = (code: number) => process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));

runCli(process.argv.slice(2), io).then(exit, (error: unknown) => {
  io.err(`rtk-postgrest: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  exit(1);
});
