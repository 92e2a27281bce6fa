import { parseArgs, USAGE, UsageError } from './args.js';
import { runDev, type Io } from './dev.js';
import { runGenTypes } from './types/genTypes.js';
import { runRealtime } from './realtime.js';

/** Runs the CLI and resolves with its exit code: 0 success, 1 failure, 2 bad usage. */
export async function runCli(argv: readonly string[], io: Io): Promise<number> {
  let command;
  try {
    command = parseArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`rtk-postgrest: ${error.message} (see rtk-postgrest --help)`);
    return 2;
  }
  if (command.command === 'help') {
    io.out(USAGE);
    return 0;
  }
  if (command.command === 'gen types') return runGenTypes(command, io);
  if (command.command === 'realtime') return runRealtime(command, io);
  return runDev(command, io);
}
