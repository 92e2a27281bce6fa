/**
 * Types of the client methods: returns / overrideTypes change the row type only, csv and explain
 * give text or a plan. `assertType` lines are checked by `tsc --noEmit` (see typecheck.test.ts).
 */
import { from, rpc, type CountedRows, type ResultOf } from '../../lib/postgrest';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): T | undefined {
  return undefined;
}

type Post = { id: number; title: string; meta: { a: number; b: string } | null };

test('returns<T>() takes the row or the array type for a row set, the value for one row', () => {
  const asArray = from<Post>('posts').select('id').returns<Array<{ id: string }>>();
  const asRow = from<Post>('posts').select('id').returns<{ id: string }>();
  const one = from<Post>('posts').select('id').single().returns<{ id: string }>();
  const counted = from<Post>('posts').select('id', { count: 'exact' }).returns<{ id: string }[]>();
  const value = rpc<number>('add').returns<string>();
  assertType<Equal<ResultOf<typeof asArray>, Array<{ id: string }>>>();
  assertType<Equal<ResultOf<typeof asRow>, Array<{ id: string }>>>();
  assertType<Equal<ResultOf<typeof one>, { id: string }>>();
  assertType<Equal<ResultOf<typeof counted>, CountedRows<{ id: string }>>>();
  assertType<Equal<ResultOf<typeof value>, string>>();
  // The filters then complete the new row's columns.
  asRow.eq('id', '1');
  expect(asArray.toRequest().query).toEqual([['select', 'id']]);
});

test('overrideTypes<T>() merges recursively unless { merge: false }', () => {
  const merged = from<Post>('posts').overrideTypes<{ title: 'fixed'; extra: boolean }>();
  const mergedArray = from<Post>('posts').overrideTypes<Array<{ title: 'fixed' }>>();
  const deep = from<{ id: number; meta: { a: number; b: string } }>('posts').single().overrideTypes<{ meta: { a: string } }>();
  const replaced = from<Post>('posts').overrideTypes<{ only: 1 }, { merge: false }>();
  type Row<B> = ResultOf<B> extends Array<infer R> ? R : never;
  assertType<Equal<Row<typeof merged>['title'], 'fixed'>>();
  assertType<Equal<Row<typeof merged>['extra'], boolean>>();
  assertType<Equal<Row<typeof merged>['id'], number>>();
  assertType<Equal<Row<typeof mergedArray>['title'], 'fixed'>>();
  assertType<Equal<ResultOf<typeof deep>['meta']['a'], string>>();
  assertType<Equal<ResultOf<typeof deep>['meta']['b'], string>>();
  assertType<Equal<ResultOf<typeof replaced>, Array<{ only: 1 }>>>();
  expect(merged.toRequest()).toEqual(from('posts').toRequest());
});

test('csv and text plans are strings, JSON plans arrays, geojson a document', () => {
  const csv = from<Post>('posts').csv();
  const csvWrite = from<Post>('posts').insert({ title: 'x' }).select().csv();
  const text = from<Post>('posts').explain();
  const json = from<Post>('posts').explain({ format: 'json', analyze: true });
  const geo = from<Post>('posts').geojson();
  assertType<Equal<ResultOf<typeof csv>, string>>();
  assertType<Equal<ResultOf<typeof csvWrite>, string>>();
  assertType<Equal<ResultOf<typeof text>, string>>();
  assertType<Equal<ResultOf<typeof json>, Array<Record<string, unknown>>>>();
  assertType<Equal<ResultOf<typeof geo>, Record<string, unknown>>>();
  expect([csv, text, json, geo].map((b) => b.toRequest().result)).toEqual(['text', 'text', 'json', 'json']);
});

test('setHeader, rollback and maxAffected keep the data type', () => {
  const write = from<Post>('posts').update({ title: 'x' }).eq('id', 1).select().single().setHeader('x-a', '1').rollback().maxAffected(1);
  assertType<Equal<ResultOf<typeof write>, Post>>();
  expect(write.toRequest().result).toBe('single');
});
