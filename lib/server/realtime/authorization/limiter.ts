/**
 * Caps how many visibility queries run at once. The checker shares the caller's pool with the rest
 * of the server; without a cap one burst of batches would hold every connection and queue whatever
 * else needs the database behind it.
 */

export interface Limiter {
  run<T>(task: () => Promise<T>): Promise<T>;
}

export function createLimiter(maxConcurrent: number): Limiter {
  let running = 0;
  const waiting: Array<() => void> = [];

  const release = () => {
    running--;
    const next = waiting.shift();
    if (next) {
      running++;
      next();
    }
  };

  return {
    async run(task) {
      if (running < maxConcurrent) running++;
      else await new Promise<void>((resolve) => waiting.push(resolve));
      try {
        return await task();
      } finally {
        release();
      }
    },
  };
}
