/**
 * Optimistic updates and deletes with `conflict` against the real stack: sent only if the row still
 * has the version this client saw; when someone else changed it, `server-wins` fails the write with
 * CONFLICT { base, local, server } and shows the server's row, `client-wins` sends the client's
 * values again against the new version, `merge` keeps the fields only the client changed, a named
 * resolver decides the row. A version bumped by the write (`version: seen + 1`) and a timestamp
 * bumped by a trigger both work. Writes the client can't check are refused before anything is sent.
 */
import { from } from '../../lib/postgrest/index.js';
import type { SyncMiddlewareOptions } from '../../lib/sync/index.js';
import { sql } from '../support/stack.js';
import { stackSyncStore } from '../support/stackStore.js';
import { type OptItem, cleanupsAfterAll, tagger } from '../support/optimistic.js';

type Item = OptItem;

const cleanups = cleanupsAfterAll();

const makeStore = (resolvers?: SyncMiddlewareOptions['resolvers']) => stackSyncStore(cleanups, resolvers ? { resolvers } : {});

const newTag = tagger('conflict');

/** A store with a plain (not live) read of the tag's items loaded: it does not hear other writers. */
async function reader(tag: string, resolvers?: SyncMiddlewareOptions['resolvers']) {
  const harness = makeStore(resolvers);
  const request = from<Item>('opt_items').select('*').eq('tag', tag).order('id');
  const read = harness.store.dispatch(harness.api.endpoints.read.initiate(request as never));
  cleanups.push(() => read.unsubscribe());
  await read;
  const rows = () => harness.api.endpoints.read.select(request as never)(harness.store.getState() as never).data as Item[];
  const write = (builder: unknown) => harness.store.dispatch(harness.api.endpoints.write.initiate(builder as never));
  const state = () => harness.sync.selectors.selectSync(harness.store.getState());
  return { ...harness, rows, write, state };
}

async function seed(tag: string, title = 'original'): Promise<Item> {
  const [row] = await sql(`insert into opt_items (list_id, tag, title, rank) values (1, $1, $2, 1) returning *`, [tag, title]);
  return row as Item;
}

/** How a write ended: `{ data }` or `{ error }`. */
const settle = <T>(promise: { unwrap(): Promise<T> }): Promise<{ data?: unknown; error?: Record<string, unknown> }> =>
  promise.unwrap().then(
    (data) => ({ data }),
    (error: unknown) => ({ error: error as Record<string, unknown> }),
  );

describe('conflicts', () => {
  it('server-wins: the write fails with CONFLICT { base, local, server }, the server row is shown, a conflict record is open', async () => {
    const tag = newTag();
    const row = await seed(tag);
    const a = await reader(tag);
    await sql(`update opt_items set title = 'theirs', version = version + 1 where id = $1`, [row.id]);
    const pending = a.write(from('opt_items').update({ title: 'mine', version: row.version + 1 }).eq('id', row.id).optimistic({ conflict: { column: 'version' } }));
    expect(a.rows()).toEqual([expect.objectContaining({ title: 'mine', version: 2 })]);
    const outcome = await settle(pending);
    expect(outcome.error).toEqual({
      status: 409,
      code: 'CONFLICT',
      message: expect.stringContaining('the row changed since this client saw it (version 1 → 2)'),
      details: { base: expect.objectContaining({ title: 'original', version: 1 }), local: expect.objectContaining({ title: 'mine', version: 2 }), server: expect.objectContaining({ title: 'theirs', version: 2 }) },
      hint: null,
    });
    expect(a.rows()).toEqual([expect.objectContaining({ title: 'theirs', version: 2 })]);
    expect(a.state().conflicts).toEqual([expect.objectContaining({ id: a.state().writes[0]!.id, strategy: 'server-wins', status: 'open', resolution: null })]);
    expect(a.state().writes).toEqual([expect.objectContaining({ status: 'rolledBack', error: expect.objectContaining({ code: 'CONFLICT' }) })]);
    expect(await sql(`select title, version from opt_items where id = $1`, [row.id])).toEqual([{ title: 'theirs', version: 2 }]);
  });

  it('client-wins: sent again against the new version (the bumped version follows), and succeeds', async () => {
    const tag = newTag();
    const row = await seed(tag);
    const a = await reader(tag);
    await sql(`update opt_items set rank = 5, version = version + 1 where id = $1`, [row.id]);
    const outcome = await settle(a.write(from('opt_items').update({ title: 'mine', version: row.version + 1 }).eq('id', row.id).select().optimistic({ conflict: { column: 'version', strategy: 'client-wins' } })));
    expect(outcome.data).toEqual([expect.objectContaining({ title: 'mine', rank: 5, version: 3 })]);
    expect(await sql(`select title, rank, version from opt_items where id = $1`, [row.id])).toEqual([{ title: 'mine', rank: 5, version: 3 }]);
    expect(a.rows()).toEqual([expect.objectContaining({ title: 'mine', rank: 5, version: 3 })]);
    expect(a.state().conflicts).toEqual([expect.objectContaining({ strategy: 'client-wins', status: 'resolved', resolution: 'client' })]);
    expect(a.state().writes).toEqual([]);
  });

  it('merge: fields only the client changed are the client\'s, fields the server changed (alone or both) the server\'s', async () => {
    const tag = newTag();
    const row = await seed(tag);
    const a = await reader(tag);
    await sql(`update opt_items set rank = 7, list_id = 2, version = version + 1 where id = $1`, [row.id]);
    const outcome = await settle(a.write(from('opt_items').update({ title: 'mine', list_id: 1, version: row.version + 1 }).eq('id', row.id).optimistic({ conflict: { column: 'version', strategy: 'merge' } })));
    expect(outcome).toEqual({ data: null });
    // title: only the client's change; rank: only the server's; list_id: the client wrote its old value back, the server changed it: the server's.
    expect(await sql(`select title, rank, list_id, version from opt_items where id = $1`, [row.id])).toEqual([{ title: 'mine', rank: 7, list_id: 2, version: 3 }]);
    expect(a.rows()).toEqual([expect.objectContaining({ title: 'mine', rank: 7, list_id: 2, version: 3 })]);
    expect(a.state().conflicts).toEqual([expect.objectContaining({ strategy: 'merge', resolution: 'merged', status: 'resolved' })]);
  });

  it('a registered resolver decides the row; one that throws keeps the server\'s version', async () => {
    const tag = newTag();
    const row = await seed(tag);
    const keepMyTitle = (_base: Record<string, unknown>, local: Record<string, unknown>, server: Record<string, unknown>) => ({ ...server, title: `${String(local.title)}+${String(server.title)}` });
    const a = await reader(tag, { keepMyTitle, broken: () => { throw new Error('nope'); } });
    await sql(`update opt_items set title = 'theirs', version = version + 1 where id = $1`, [row.id]);
    await settle(a.write(from('opt_items').update({ title: 'mine', version: row.version + 1 }).eq('id', row.id).optimistic({ conflict: { column: 'version', strategy: 'keepMyTitle' } })));
    expect(await sql(`select title, version from opt_items where id = $1`, [row.id])).toEqual([{ title: 'mine+theirs', version: 3 }]);
    await sql(`update opt_items set title = 'again', version = version + 1 where id = $1`, [row.id]);
    const outcome = await settle(a.write(from('opt_items').update({ title: 'x', version: 4 }).eq('id', row.id).optimistic({ conflict: { column: 'version', strategy: 'broken' } })));
    expect(outcome.error).toEqual(expect.objectContaining({ code: 'CONFLICT' }));
    expect(await sql(`select title from opt_items where id = $1`, [row.id])).toEqual([{ title: 'again' }]);
  });

  it('a timestamp bumped by a trigger is a conflict column too; a delete of a changed row is a conflict, of a deleted one a success', async () => {
    const tag = newTag();
    const [doc] = (await sql(`insert into opt_docs (tag, title) values ($1, 'original') returning id`, [tag])) as Array<{ id: number }>;
    const a = makeStore();
    const request = from('opt_docs').select('*').eq('tag', tag);
    await a.store.dispatch(a.api.endpoints.read.initiate(request as never));
    const write = (builder: unknown) => settle(a.store.dispatch(a.api.endpoints.write.initiate(builder as never)));
    // Unchanged: one request, no conflict; the trigger moved updated_at.
    expect((await write(from('opt_docs').update({ title: 'first' }).eq('id', doc!.id).select().optimistic({ conflict: { column: 'updated_at', strategy: 'merge' } }))).data).toEqual([expect.objectContaining({ title: 'first' })]);
    await sql(`update opt_docs set body = 'theirs' where id = $1`, [doc!.id]);
    await write(from('opt_docs').update({ title: 'second' }).eq('id', doc!.id).optimistic({ conflict: { column: 'updated_at', strategy: 'merge' } }));
    expect(await sql(`select title, body from opt_docs where id = $1`, [doc!.id])).toEqual([{ title: 'second', body: 'theirs' }]);
    expect(a.sync.selectors.selectSync(a.store.getState()).conflicts).toEqual([expect.objectContaining({ resolution: 'merged' })]);
    await sql(`update opt_docs set body = 'again' where id = $1`, [doc!.id]);
    const removal = await write(from('opt_docs').delete().eq('id', doc!.id).optimistic({ conflict: { column: 'updated_at' } }));
    expect(removal.error).toEqual(expect.objectContaining({ code: 'CONFLICT', details: expect.objectContaining({ local: null, server: expect.objectContaining({ body: 'again' }) }) }));
    await sql(`delete from opt_docs where id = $1`, [doc!.id]);
    expect(await write(from('opt_docs').delete().eq('id', doc!.id).optimistic({ conflict: { column: 'updated_at', strategy: 'client-wins' } }))).toEqual({ data: null });
  });

  it('refuses, before showing or sending anything, a check with no single target row, an unknown resolver or an unloaded conflict column', async () => {
    const tag = newTag();
    const row = await seed(tag);
    await seed(tag, 'second');
    const a = await reader(tag);
    const before = a.rows();
    const many = await settle(a.write(from('opt_items').update({ title: 'x' }).eq('tag', tag).optimistic({ conflict: { column: 'version' } })));
    expect(many.error).toEqual(expect.objectContaining({ status: 'INVALID_REQUEST', code: 'CONFLICT_TARGET', message: expect.stringContaining('exactly one row this client has loaded; it selects 2') }));
    const unknown = await settle(a.write(from('opt_items').update({ title: 'x' }).eq('id', row.id).optimistic({ conflict: { column: 'version', strategy: 'nobody' } })));
    expect(unknown.error).toEqual(expect.objectContaining({ code: 'UNKNOWN_RESOLVER', message: expect.stringContaining('"nobody" is neither server-wins, client-wins, merge nor a registered resolver') }));
    const column = await settle(a.write(from('opt_items').update({ title: 'x' }).eq('id', row.id).optimistic({ conflict: { column: 'revision' } })));
    expect(column.error).toEqual(expect.objectContaining({ code: 'CONFLICT_COLUMN' }));
    expect(a.rows()).toBe(before);
    expect(a.state().writes).toEqual([]);
    expect(await sql(`select count(*)::int as n from opt_items where tag = $1 and title = 'x'`, [tag])).toEqual([{ n: 0 }]);
  });
});
