/**
 * A small cache of promises that expire after a fixed time. Keeping the promise (not the value)
 * lets concurrent batches share one lookup in flight; failed lookups are dropped at once so the
 * next batch retries instead of reusing the failure.
 */

export interface TtlCache<V> {
  /** The values of `keys`, loading every missing or expired one with ONE call of `load`. */
  getMany(keys: readonly string[], load: (missing: string[]) => Promise<Map<string, V>>): Promise<Map<string, V>>;
  /** Forgets the keys `matches` accepts, or everything. */
  delete(matches?: (key: string) => boolean): void;
}

/** Beyond this many entries, expired ones are swept on the next insert. */
const SWEEP_ABOVE = 10_000;

export function createTtlCache<V>(ttlMs: number, now: () => number = Date.now): TtlCache<V> {
  const entries = new Map<string, { value: Promise<V>; expires: number }>();

  const sweep = (time: number) => {
    for (const [key, entry] of entries) if (entry.expires <= time) entries.delete(key);
  };

  return {
    async getMany(keys, load) {
      const time = now();
      const found = new Map<string, Promise<V>>();
      const missingSet = new Set<string>();
      for (const key of keys) {
        const entry = entries.get(key);
        if (entry && entry.expires > time) found.set(key, entry.value);
        else missingSet.add(key);
      }
      const missing = [...missingSet];
      if (missing.length > 0) {
        if (entries.size > SWEEP_ABOVE) sweep(time);
        const loading = load(missing);
        for (const key of missing) {
          const value = loading.then((loaded) => {
            if (!loaded.has(key)) throw new Error(`cache loader returned no value for a requested key`);
            return loaded.get(key) as V;
          });
          const entry = { value, expires: time + ttlMs };
          entries.set(key, entry);
          // Only the entry this call made is dropped: a newer one may have replaced it meanwhile.
          value.catch(() => {
            if (entries.get(key) === entry) entries.delete(key);
          });
          found.set(key, value);
        }
      }
      const result = new Map<string, V>();
      for (const [key, value] of found) result.set(key, await value);
      return result;
    },
    delete(matches) {
      if (!matches) entries.clear();
      else for (const key of entries.keys()) if (matches(key)) entries.delete(key);
    },
  };
}
