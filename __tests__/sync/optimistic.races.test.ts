/**
 * The optimistic layer's races, made deterministic with a fake realtime server and an in-memory
 * PostgREST whose responses the test releases (unit tests of the sync middleware alone; the real
 * stack runs in optimistic.test.ts): the realtime echo of an insert arriving before the write's
 * response, and a refetch that read the table before the write committed landing after it.
 */
import { from } from '../../lib/postgrest/index.js';
import { FakeSocket, fakeStore, memoryPostgrest, startLive, until } from './support/fakeRealtime.js';

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/** A promise and the function that settles it. */
function later<T>() {
  let release!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (release = resolve));
  return { promise, release };
}

beforeEach(() => {
  FakeSocket.all = [];
});

it('an insert under a temporary key whose echo arrives before the response is shown once, never twice or not at all', async () => {
  const postgrest = memoryPostgrest();
  postgrest.tables.notes = [{ id: 1, title: 'a' }];
  const response = later<Response>();
  postgrest.respondWith((_url, method) => (method === 'POST' ? response.promise : undefined));
  const made = fakeStore(postgrest.fetchFn);
  const request = from('notes').select('*').order('id');
  const live = await startLive(made, request);
  const titles = () => ((live.select().data ?? []) as Array<{ id: number; title: string }>).map((row) => `${row.id}:${row.title}`);
  // Every state an app can observe after the dispatch (a notification that changed nothing shows nothing new).
  const states: string[][] = [];
  let last = titles().join();
  const stop = made.store.subscribe(() => {
    if (titles().join() === last) return;
    last = titles().join();
    states.push(titles());
  });
  const write = made.store.dispatch(made.api.endpoints.write.initiate(from('notes').insert({ title: 'b' }).optimistic() as never));
  expect(titles()).toEqual(['1:a', '1.500001:b']); // a temporary key where the server's will sort
  // The echo first: the server's row (key 2) replaces the temporary one in the same step.
  live.socket.change('realtime:live:public.notes', 'notes', 'INSERT', { id: 2, title: 'b' }, 10);
  expect(await until(() => titles().join() === '1:a,2:b')).toBe(true);
  response.release(json([{ id: 2, title: 'b' }], 201));
  await write.unwrap();
  stop();
  expect(titles()).toEqual(['1:a', '2:b']);
  expect(states).toEqual([['1:a', '1.500001:b'], ['1:a', '2:b']]);
  expect(made.sync.selectors.selectSync(made.store.getState()).writes).toEqual([]);
  live.done();
});

it('a refetch that read the table before the write committed, landing after it, still shows the written row', async () => {
  const postgrest = memoryPostgrest();
  postgrest.tables.notes = [{ id: 1, title: 'a' }];
  const made = fakeStore(postgrest.fetchFn);
  const request = from('notes').select('*').order('id');
  const read = made.store.dispatch(made.api.endpoints.read.initiate(request as never));
  await read;
  const titles = () => ((made.api.endpoints.read.select(request as never)(made.store.getState() as never).data ?? []) as Array<{ id: number; title: string }>).map((row) => row.title);
  // The refetch reads the table as it is now (without the write), but answers late.
  const stale = later<Response>();
  postgrest.respondWith((_url, method) => (method === 'GET' ? stale.promise : method === 'POST' ? Promise.resolve(json([{ id: 2, title: 'b' }], 201)) : undefined));
  const refetch = made.store.dispatch(made.api.endpoints.read.initiate(request as never, { forceRefetch: true }));
  await made.store.dispatch(made.api.endpoints.write.initiate(from('notes').insert({ title: 'b' }).select().optimistic() as never)).unwrap();
  expect(titles()).toEqual(['a', 'b']);
  stale.release(json([{ id: 1, title: 'a' }]));
  await refetch;
  expect(titles()).toEqual(['a', 'b']);
  read.unsubscribe();
  refetch.unsubscribe();
});
