/**
 * Shared by the postgrest integration tests: the base query pointed at the real PostgREST, the `items`
 * row type and the id ranges each file owns. Test files run in parallel workers against ONE database,
 * so every file reads and writes only its own id range of `items` and never deletes outside it.
 */
import type { BaseQueryApi } from '@reduxjs/toolkit/query';
import { postgrestBaseQuery } from '../../lib/postgrest/http/baseQuery';
import type { PostgrestError, PostgrestMeta, PostgrestRequestLike, ResultOf } from '../../lib/postgrest';
import { testStack } from '../support/stack';

/** A row of `items` as PostgREST returns it (bigint and numeric as JSON numbers). */
export interface Item {
  id: number;
  name: string | null;
  qty: number | null;
  price: number | null;
  active: boolean | null;
  tags: Array<string | null> | null;
  meta: unknown;
  during: string | null;
  body: string | null;
  fts: string;
  created_at: string;
  score: number | null;
  day: string | null;
  ref: string | null;
  label: string | null;
}

/** Id ranges of `items` (inclusive start, exclusive end), one per test file. */
export const RANGES = {
  /** integration.test.ts: the fixed seed every read compares against. */
  seed: [1, 1000],
  /** integration.property.test.ts: random rows, inserted and removed per run. */
  property: [1000, 10000],
  /** integration.writes.test.ts: explicit ids from here, identity ids from 1,000,000. */
  writes: [10000, Number.MAX_SAFE_INTEGER],
} as const;

function api(): BaseQueryApi {
  return {
    signal: new AbortController().signal,
    abort: () => undefined,
    dispatch: (action: unknown) => action,
    getState: () => ({}),
    extra: undefined,
    endpoint: 'integration',
    type: 'query',
  } as unknown as BaseQueryApi;
}

let baseQuery: ReturnType<typeof postgrestBaseQuery> | undefined;

/** What the base query resolved with. */
export interface Outcome<Data> {
  data?: Data;
  error?: PostgrestError;
  meta?: PostgrestMeta;
}

/** Runs a builder through `postgrestBaseQuery` against the real PostgREST with the service key. */
export async function run<B extends PostgrestRequestLike>(builder: B): Promise<Outcome<ResultOf<B>>> {
  const stack = testStack();
  baseQuery ??= postgrestBaseQuery({ url: stack.postgrestUrl, apiKey: stack.serviceKey });
  return (await baseQuery(builder, api(), {})) as Outcome<ResultOf<B>>;
}

/** The data of a request that must succeed; fails the test with PostgREST's error otherwise. */
export async function data<B extends PostgrestRequestLike>(builder: B): Promise<ResultOf<B>> {
  const outcome = await run(builder);
  if (outcome.error !== undefined) throw new Error(`PostgREST answered an error: ${JSON.stringify(outcome.error)}`);
  return outcome.data as ResultOf<B>;
}

/** The error of a request that must fail. */
export async function failure(builder: PostgrestRequestLike): Promise<PostgrestError> {
  const outcome = await run(builder);
  if (outcome.error === undefined) throw new Error(`expected an error, got data ${JSON.stringify(outcome.data)}`);
  return outcome.error;
}

/** Ids of rows as numbers, in their order (pg returns bigint as a string). */
export function idsOf(rows: ReadonlyArray<{ id: unknown }>): number[] {
  return rows.map((row) => Number(row.id));
}

/** Numbers sorted ascending, for comparing unordered results as sets. */
export function sorted(ids: readonly number[]): number[] {
  return [...ids].sort((a, b) => a - b);
}
