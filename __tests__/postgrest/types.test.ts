/**
 * Data types of builders. The `assertType` lines are checked by `tsc --noEmit` (this file is in the
 * tsconfig; ts-jest runs with isolatedModules and does not type-check); the runtime expectations pin
 * the matching request shape.
 */
import { from, rpc, type CountedRows, type ResultOf } from '../../lib/postgrest';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): T | undefined {
  return undefined;
}

type Post = { id: number; title: string };

test('select gives Row[] and single / maybeSingle give Row / Row | null', () => {
  const many = from<Post>('posts').select();
  const one = many.eq('id', 1).single();
  const maybe = many.maybeSingle();
  assertType<Equal<ResultOf<typeof many>, Post[]>>();
  assertType<Equal<ResultOf<typeof one>, Post>>();
  assertType<Equal<ResultOf<typeof maybe>, Post | null>>();
  assertType<Equal<ResultOf<ReturnType<typeof from<Post>>>, Post[]>>();
  expect([many, one, maybe].map((b) => b.toRequest().result)).toEqual(['many', 'single', 'maybeSingle']);
});

test('count gives { rows, count }', () => {
  const counted = from<Post>('posts').select('*', { count: 'exact' }).eq('id', 1);
  const headCount = from<Post>('posts').select('*', { count: 'exact', head: true });
  assertType<Equal<ResultOf<typeof counted>, CountedRows<Post>>>();
  assertType<Equal<ResultOf<typeof headCount>, CountedRows<Post>>>();
  expect(counted.toRequest().count).toBe('exact');
});

test('select may name a narrower row type', () => {
  const ids = from<Post>('posts').select<{ id: number }>('id');
  assertType<Equal<ResultOf<typeof ids>, Array<{ id: number }>>>();
  expect(ids.toRequest().query).toEqual([['select', 'id']]);
});

test('writes resolve with null until select asks for rows', () => {
  const minimal = from<Post>('posts').insert({ title: 'x' });
  const returned = minimal.select().single();
  const singleFirst = from<Post>('posts').update({ title: 'y' }).single().select('id');
  const counted = from<Post>('posts').delete({ count: 'exact' });
  assertType<Equal<ResultOf<typeof minimal>, null>>();
  assertType<Equal<ResultOf<typeof returned>, Post>>();
  assertType<Equal<ResultOf<typeof singleFirst>, Post>>();
  assertType<Equal<ResultOf<typeof counted>, CountedRows<Post>>>();
  expect(returned.toRequest().headers.Prefer).toBe('return=representation');
});

test('rpc results: arrays are row sets, anything else a value', () => {
  const value = rpc<number>('add', { a: 1, b: 2 });
  const rows = rpc<Post[]>('list_posts');
  const first = rows.limit(1).single();
  const unknownResult = rpc('f');
  const counted = rpc<Post[]>('list_posts', {}, { count: 'exact' });
  assertType<Equal<ResultOf<typeof value>, number>>();
  assertType<Equal<ResultOf<typeof rows>, Post[]>>();
  assertType<Equal<ResultOf<typeof first>, Post>>();
  assertType<Equal<ResultOf<typeof unknownResult>, unknown>>();
  assertType<Equal<ResultOf<typeof counted>, CountedRows<Post>>>();
  expect(first.toRequest()).toMatchObject({ action: 'rpc', result: 'single' });
});

test('column parameters suggest Row keys but accept any path', () => {
  const builder = from<Post>('posts').eq('title', 'x').eq('authors.name', 'y').order('id');
  expect(builder.toRequest().query).toEqual([['select', '*'], ['title', 'eq.x'], ['authors.name', 'eq.y'], ['order', 'id.asc']]);
});
