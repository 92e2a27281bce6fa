import { parseArgs, USAGE, UsageError } from './args.js';
import type { Io } from './dev.js';
import { runGenTypes } from './types/genTypes.js';
import { REALTIME_NEEDS, STACK_NEEDS, unmetNeeds, type PackageNeeds } from '../stack/packages.js';

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
  // dev and realtime import pg, pg-logical-replication and ws (optional peers): loaded only once
  // they are known to resolve, so a missing one is a line naming the install command.
  const needs: PackageNeeds = command.command === 'realtime' ? REALTIME_NEEDS : STACK_NEEDS;
  const unmet = unmetNeeds(command.command, needs);
  if (unmet !== undefined) {
    io.err(`rtk-postgrest: ${unmet}`);
    return 1;
  }
  if (command.command === 'realtime') return (await import('./realtime.js')).runRealtime(command, io);
  return (await import('./dev.js')).runDev(command, io);
}
