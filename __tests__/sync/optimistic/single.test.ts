/**
 * Optimistic writes on single-row reads (`.single()` / `.maybeSingle()`, e.g. a post's page): the
 * layer shows the write on them too, a commit keeps it without going back to the old row first, a
 * rollback restores the row, and a conflict check finds its row there. In-memory PostgREST, fake socket.
 */
import { from } from '../../../lib/postgrest';
import { fakeStore, memoryPostgrest, until } from '../support/fakeRealtime';

interface Note {
  id: number;
  title: string;
  version: number;
}

function setup() {
  const postgrest = memoryPostgrest();
  const row: Note = { id: 1, title: 'a', version: 1 };
  let answer: ((response: Response) => void) | undefined;
  postgrest.respondWith((url, method) => {
    if (method === 'GET') {
      const one = new URL(url).searchParams.get('id') === 'eq.1';
      return Promise.resolve(new Response(JSON.stringify(one ? row : [row]), { status: 200, headers: { 'content-type': 'application/json' } }));
    }
    return new Promise<Response>((resolve) => (answer = resolve));
  });
  const made = fakeStore(postgrest.fetchFn);
  const reply = (status: number, body: unknown) => answer!(new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } }));
  return { ...made, row, reply, sent: () => answer !== undefined };
}

const single = from<Note>('notes').select('*').eq('id', 1).single();
const maybe = from<Note>('notes').select('*').eq('id', 1).maybeSingle();

async function open(made: ReturnType<typeof setup>) {
  const subscriptions = [single, maybe].map((request) => made.store.dispatch(made.api.endpoints.read.initiate(request)));
  await Promise.all(subscriptions);
  const shown = (request: typeof single | typeof maybe) => made.api.endpoints.read.select(request.toRequest())(made.store.getState() as never).data;
  return {
    shown,
    done: () => {
      for (const subscription of subscriptions) subscription.unsubscribe();
      made.store.dispatch(made.sync.actions.disconnect());
    },
  };
}

test('an optimistic update shows on single-row reads, and its commit keeps it (no step back to the old row)', async () => {
  const made = setup();
  const { shown, done } = await open(made);
  expect(shown(single)).toEqual({ id: 1, title: 'a', version: 1 });
  const write = made.store.dispatch(made.api.endpoints.write.initiate(from('notes').update({ title: 'b' }).eq('id', 1).optimistic()));
  expect(await until(() => made.sent())).toBe(true);
  expect(shown(single)).toEqual({ id: 1, title: 'b', version: 1 });
  expect(shown(maybe)).toEqual({ id: 1, title: 'b', version: 1 });
  const seen: unknown[] = [];
  const stop = made.store.subscribe(() => seen.push(shown(single)));
  made.reply(200, [{ id: 1, title: 'b', version: 2 }]);
  await write;
  stop();
  expect(shown(single)).toEqual({ id: 1, title: 'b', version: 2 });
  expect(seen.every((data) => (data as Note).title === 'b')).toBe(true);
  done();
});

test('a failed write rolls single-row reads back; a pending delete empties maybeSingle and leaves single as it was', async () => {
  const made = setup();
  const { shown, done } = await open(made);
  const remove = made.store.dispatch(made.api.endpoints.write.initiate(from('notes').delete().eq('id', 1).optimistic()));
  expect(await until(() => made.sent())).toBe(true);
  expect(shown(maybe)).toBeNull();
  expect(shown(single)).toEqual({ id: 1, title: 'a', version: 1 });
  made.reply(403, { code: '42501', message: 'permission denied', details: null, hint: null });
  await remove;
  expect(shown(maybe)).toEqual({ id: 1, title: 'a', version: 1 });
  done();
});

test('a conflict check finds its row in a single-row read', async () => {
  const made = setup();
  const { shown, done } = await open(made);
  const write = made.store.dispatch(made.api.endpoints.write.initiate(from('notes').update({ title: 'c', version: 2 }).eq('id', 1).optimistic({ conflict: { column: 'version' } })));
  expect(await until(() => made.sent())).toBe(true);
  expect(shown(single)).toMatchObject({ title: 'c' });
  made.reply(200, [{ id: 1, title: 'c', version: 2 }]);
  const result = await write;
  expect('error' in result ? result.error : undefined).toBeUndefined();
  expect(made.warnings).toEqual([]);
  done();
});
