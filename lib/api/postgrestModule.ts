/**
 * A module for RTK Query's `buildCreateApi` (the documented way to extend what createApi builds):
 * the generic endpoints (`read`, `live`, `write`) take a builder chain where RTK expects plain
 * data, so their `initiate` (and, after RTK's React module, their hooks) turn it into a plain
 * `PostgrestRequest` before it reaches any action, the state or a hook's argument comparison.
 * Put it after `coreModule()` and after `reactHooksModule()` when there is one.
 */
import type { BaseQueryFn, EndpointDefinitions, Module } from '@reduxjs/toolkit/query';
import { isPostgrestRequest, toPostgrestRequest } from '../postgrest/request/request';
import type { PostgrestRequest, PostgrestRequestLike } from '../postgrest/request/types';
import { offerPlan, optimisticStarting, planOf } from './liveContract';

export const postgrestModuleName = Symbol('rtkPostgrest');
export type PostgrestModule = typeof postgrestModuleName;

declare module '@reduxjs/toolkit/query' {
  export interface ApiModules<
    // eslint-disable-next-line @typescript-eslint/no-unused-vars
    in out BaseQuery extends BaseQueryFn,
    // eslint-disable-next-line @typescript-eslint/no-unused-vars
    in out Definitions extends EndpointDefinitions,
    // eslint-disable-next-line @typescript-eslint/no-unused-vars
    in out ReducerPath extends string,
    // eslint-disable-next-line @typescript-eslint/no-unused-vars
    in out TagTypes extends string,
  > {
    [postgrestModuleName]: {};
  }
}

/**
 * Normalizes builder chains to plain requests so actions, state and cache keys stay serializable.
 * A request is returned as is (hooks compare args by identity); anything else that is no request
 * (skipToken, a mistake) passes through, and the base query answers a mistake with INVALID_REQUEST.
 */
export function normalizeArg(arg: unknown): unknown {
  if (isPostgrestRequest(arg)) return arg;
  try {
    return toPostgrestRequest(arg as PostgrestRequestLike);
  } catch {
    return arg;
  }
}

/** The endpoints whose argument is any request (a builder chain or a plain one). */
const GENERIC = new Set(['read', 'live', 'write']);

/** The functions of an endpoint (core's `initiate`, React's query hooks) whose first argument is the request. */
const TAKING_ARG = ['initiate', 'useQuery', 'useQueryState', 'useQuerySubscription'] as const;

type AnyFunction = (arg: unknown, ...rest: unknown[]) => unknown;

/**
 * A mutation's `initiate` announces an optimistic write (its request has `optimistic`) before RTK's
 * thunk dispatches anything, so a sync middleware shows it in the first state after `dispatch`; the
 * plan it answers with waits for the base query (liveContract.ts).
 */
function announceOptimistic(api: { reducerPath: string }, endpointName: string, endpoint: Record<string, unknown>, definition: { query?: (arg: unknown) => unknown }): void {
  const original = endpoint.initiate as AnyFunction | undefined;
  if (typeof original !== 'function' || typeof definition.query !== 'function') return;
  const query = definition.query;
  endpoint.initiate = (arg: unknown, ...rest: unknown[]) => {
    const thunk = original(arg, ...rest) as (dispatch: (action: unknown) => unknown, ...more: unknown[]) => unknown;
    return (dispatch: (action: unknown) => unknown, ...more: unknown[]) => {
      let request: PostgrestRequest | undefined;
      try {
        request = toPostgrestRequest(query(normalizeArg(arg)) as PostgrestRequestLike);
      } catch {
        /* the base query reports it */
      }
      if (request?.optimistic) {
        const plan = planOf(dispatch(optimisticStarting({ api: api.reducerPath, endpoint: endpointName, request })));
        if (plan) offerPlan(api, request, plan);
      }
      return thunk(dispatch, ...more);
    };
  };
}

/** The module: builder chains become plain requests at the generic endpoints' entry points. */
export const postgrestModule = (): Module<PostgrestModule> => ({
  name: postgrestModuleName,
  init(api) {
    const apiFunctions = api as unknown as Record<string, unknown>;
    const endpoints = (api as unknown as { endpoints: Record<string, Record<string, unknown>> }).endpoints;
    return {
      injectEndpoint(endpointName, definition) {
        if ((definition as { type?: unknown }).type === 'mutation') announceOptimistic(api as unknown as { reducerPath: string }, endpointName, endpoints[endpointName]!, definition as { query?: (arg: unknown) => unknown });
        if (!GENERIC.has(endpointName)) return;
        const endpoint = endpoints[endpointName]!;
        for (const name of TAKING_ARG) {
          const original = endpoint[name] as AnyFunction | undefined;
          if (typeof original !== 'function') continue;
          const normalized: AnyFunction = (arg, ...rest) => original(normalizeArg(arg), ...rest);
          endpoint[name] = normalized;
          // React's module also puts `useQuery` on the api as `use<Name>Query`.
          const apiName = `use${endpointName[0]!.toUpperCase()}${endpointName.slice(1)}Query`;
          if (name === 'useQuery' && apiFunctions[apiName] === original) apiFunctions[apiName] = normalized;
        }
      },
    };
  },
});
