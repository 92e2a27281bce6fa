/**
 * `queryClient.db`: the builders (`from`, `rpc`) made awaitable, as the guide's `client` is:
 * `await db.from('posts').select('version').eq('id', 1).single()` runs through the api and resolves
 * with the data (rejects with the error). Not awaited, each chain is our ordinary builder, so it can
 * be returned to `useQuery` or `useMutation` as it is.
 */
import { from } from '../../postgrest/builder/table';
import { rpc } from '../../postgrest/builder/rpc';
import type { PostgrestRequest } from '../../postgrest/request/types';
import { requestOf } from './endpoints';

/** A builder chain that can also be awaited (loosely typed: use `useQuery`'s typed `client` for typed rows). */
export interface AwaitableChain extends PromiseLike<any> {
  [method: string]: any;
}

/** The guide's `client`: `from` and `rpc`, awaitable. */
export interface AwaitableClient {
  from(relation: string, options?: { schema?: string }): AwaitableChain;
  rpc(fn: string, args?: Record<string, unknown>, options?: Record<string, unknown>): AwaitableChain;
}

/** The builder functions a query function receives (typed as our builders). */
export interface QueryFnClient {
  from: typeof from;
  rpc: typeof rpc;
}

const WRAPPED = Symbol('awaitable');

function awaitable(builder: object, run: (request: PostgrestRequest) => Promise<unknown>): object {
  return new Proxy(builder, {
    get(target, property) {
      if (property === WRAPPED) return true;
      if (property === 'then') {
        return (resolve?: (value: unknown) => unknown, reject?: (reason: unknown) => unknown) => {
          const request = requestOf(target);
          const done = request ? run(request) : Promise.reject(new TypeError('this builder is no request yet: add .select(), .insert(...), .update(...), .delete() or .upsert(...)'));
          return done.then(resolve, reject);
        };
      }
      const value = Reflect.get(target, property) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const result = (value as (...a: unknown[]) => unknown).apply(target, args);
        return result !== null && typeof result === 'object' && typeof (result as { toRequest?: unknown }).toRequest === 'function' ? awaitable(result, run) : result;
      };
    },
  });
}

/** `from` and `rpc` whose chains run through `run` when awaited. */
export function awaitableClient(run: (request: PostgrestRequest) => Promise<unknown>): AwaitableClient & QueryFnClient {
  return {
    from: ((...args: Parameters<typeof from>) => awaitable(from(...args), run)) as never,
    rpc: ((...args: Parameters<typeof rpc>) => awaitable(rpc(...(args as [string])), run)) as never,
  };
}
