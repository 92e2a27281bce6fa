/**
 * `.optimistic()` on write builders: recorded in the plain request (so the generic `write` endpoint
 * and declared mutations carry it with no other code), never sent to PostgREST, and refused with a
 * clear error where it means nothing.
 */
import { from, isPostgrestRequest, toPostgrestRequest, toUrl, requestHeaders } from '../../lib/postgrest';
import { expectBuilderError } from '../support/expectBuilderError';

type Post = { id: number; title: string; version: number };

describe('optimistic()', () => {
  it('records its options on every kind of write, as plain data that survives JSON', () => {
    const insert = from<Post>('posts').insert({ title: 'a' }).select().single().optimistic().toRequest();
    expect(insert.optimistic).toEqual({});
    const update = from<Post>('posts').update({ title: 'b' }).eq('id', 1).optimistic({ conflict: { column: 'version', strategy: 'merge' } }).toRequest();
    expect(update.optimistic).toEqual({ conflict: { column: 'version', strategy: 'merge' } });
    expect(from('posts').upsert({ id: 1 }).optimistic().toRequest().optimistic).toEqual({});
    expect(from('posts').delete().eq('id', 1).optimistic({ conflict: { column: 'updated_at' } }).toRequest().optimistic).toEqual({ conflict: { column: 'updated_at' } });
    expect(JSON.parse(JSON.stringify(update))).toEqual(update);
    expect(isPostgrestRequest(JSON.parse(JSON.stringify(update)))).toBe(true);
    // A resolver registered on the middleware is named, so the request stays serializable.
    expect(from('posts').update({ title: 'c' }).eq('id', 1).optimistic({ conflict: { column: 'version', strategy: 'keepMyTitle' } }).toRequest().optimistic?.conflict?.strategy).toBe('keepMyTitle');
  });

  it('changes nothing PostgREST receives: URL, headers and body are those of the plain write', () => {
    const plain = from('posts').update({ title: 'b' }).eq('id', 1).select();
    const optimistic = plain.optimistic({ conflict: { column: 'version' } });
    expect(toUrl('http://x', optimistic.toRequest())).toBe(toUrl('http://x', plain.toRequest()));
    expect(requestHeaders(optimistic.toRequest())).toEqual(requestHeaders(plain.toRequest()));
    expect(optimistic.toRequest().body).toEqual(plain.toRequest().body);
    expect(plain.toRequest().optimistic).toBeUndefined(); // builders are immutable
  });

  it('refuses reads, rpc, conflicts on inserts and upserts, and malformed options, naming the problem', () => {
    expectBuilderError(() => (from('posts').select() as unknown as { optimistic(): unknown }).optimistic(), 'INVALID_OPTION', /optimistic\(\) is for writes \(insert, update, upsert, delete\), not select/);
    expectBuilderError(() => from('posts').insert({ title: 'a' }).optimistic({ conflict: { column: 'version' } }), 'INVALID_OPTION', /optimistic\(\): conflict is for update and delete .*not insert/);
    expectBuilderError(() => from('posts').upsert({ id: 1 }).optimistic({ conflict: { column: 'version' } }), 'INVALID_OPTION', /not upsert/);
    expectBuilderError(() => from('posts').update({}).optimistic({ conflict: { column: '' } }), 'INVALID_OPTION', /optimistic\(\): conflict\.column must be a column name, got a string \(""\)/);
    expectBuilderError(() => from('posts').update({}).optimistic({ conflict: { column: 'a,b' } }), 'INVALID_OPTION', /conflict\.column must be a column name/);
    expectBuilderError(() => from('posts').update({}).optimistic({ conflict: { column: 'v', strategy: 3 as never } }), 'INVALID_OPTION', /conflict\.strategy must be 'server-wins', 'client-wins', 'merge' or the name of a registered resolver, got the number 3/);
    expectBuilderError(() => from('posts').update({}).optimistic({ conflict: { column: 'v', stratgy: 'merge' } as never }), 'INVALID_OPTION', /conflict has an unknown option "stratgy" \(known: column, strategy\)/);
    expectBuilderError(() => from('posts').update({}).optimistic({ rollback: false } as never), 'INVALID_OPTION', /optimistic\(\) has an unknown option "rollback"/);
    expectBuilderError(() => from('posts').update({}).optimistic(null as never), 'INVALID_OPTION', /optimistic\(\) takes an options object, got null/);
  });

  it('is checked on plain requests too (a request built by hand or read from storage)', () => {
    const request = { ...from('posts').select().toRequest(), optimistic: {} };
    expect(() => toPostgrestRequest(request)).toThrow(/request\.optimistic is for writes \(insert, update, upsert, delete\), not select/);
    const write = { ...from('posts').update({ title: 'x' }).eq('id', 1).toRequest(), optimistic: { conflict: { column: 'version', strategy: '' } } };
    expect(() => toPostgrestRequest(write)).toThrow(/request\.optimistic\.conflict\.strategy must be/);
  });
});
