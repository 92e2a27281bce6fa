/** The last lines a child process printed, kept to explain failures; each line is also forwarded. */
export interface LogBuffer {
  /** Accepts a raw output chunk; complete lines are kept and forwarded. */
  write(chunk: string | Buffer): void;
  /** Kept lines, oldest first (including an unterminated last line). */
  lines(): string[];
}

/** Creates a log buffer keeping at most `limit` lines, forwarding each as `${prefix}${line}`. */
export function createLogBuffer(prefix: string, sink?: (line: string) => void, limit = 200): LogBuffer {
  const kept: string[] = [];
  let partial = '';

  const keep = (line: string) => {
    if (line.trim() === '') return;
    kept.push(line);
    if (kept.length > limit) kept.shift();
    if (sink) {
      // A throwing user callback must not take the stack down.
      try {
        sink(`${prefix}${line}`);
      } catch {
        /* ignored */
      }
    }
  };

  return {
    write(chunk) {
      const text = partial + chunk.toString();
      const parts = text.split(/\r?\n/);
      partial = parts.pop() ?? '';
      for (const line of parts) keep(line);
    },
    lines() {
      return partial.trim() === '' ? [...kept] : [...kept, partial];
    },
  };
}
