import { embeddedRelations, invalidatedTags, liveTags, providedTags } from '../../lib/api/tags';
import { from, rpc } from '../../lib/postgrest';

const ids = (tags: Array<{ type: string; id?: string | number }>) => tags.map((t) => (t.id === undefined ? t.type : `${t.type}:${t.id}`)).sort();

describe('tags a read provides', () => {
  it('lists the table, each returned row, and each filtered or ordered column', () => {
    const request = from('posts').select('id,title').eq('author_id', 1).order('created_at', { ascending: false }).toRequest();
    expect(ids(providedTags(request, [{ id: 1 }, { id: 2 }]))).toEqual(
      ['POSTGREST:ALL', 'posts:1', 'posts:2', 'posts:LIST', 'posts:LIST:author_id', 'posts:LIST:created_at'].sort(),
    );
  });

  it('adds ANY when rows lack their key, for or trees, and for a limit without order', () => {
    expect(ids(providedTags(from('posts').select('title').toRequest(), [{ title: 'x' }]))).toContain('posts:ANY');
    expect(ids(providedTags(from('posts').select('id').or('a.eq.1,b.eq.2').toRequest(), []))).toContain('posts:ANY');
    expect(ids(providedTags(from('posts').select('id').limit(5).toRequest(), []))).toContain('posts:ANY');
    expect(ids(providedTags(from('posts').select('id').order('id').limit(5).toRequest(), []))).not.toContain('posts:ANY');
  });

  it('leaves out LIST for a read pinned to one row by its key once it found the row', () => {
    const pinned = from('posts').select('*').eq('id', 5).single().toRequest();
    expect(ids(providedTags(pinned, { id: 5 }))).toEqual(['POSTGREST:ALL', 'posts:5', 'posts:LIST:id']);
    // Not found yet: an insert of that key must refetch it.
    expect(ids(providedTags(from('posts').select('*').eq('id', 5).maybeSingle().toRequest(), null))).toContain('posts:LIST');
  });

  it('uses composite keys, schema-qualified types and embedded relations', () => {
    const request = from('memberships', { schema: 'app' }).select('*, org:orgs!fk(name, owner:users(name))').toRequest();
    expect(ids(providedTags(request, [{ org_id: 1, user_id: 2 }], { 'app.memberships': ['org_id', 'user_id'] }))).toEqual(
      ['POSTGREST:ALL', 'app.memberships:["1","2"]', 'app.memberships:LIST', 'app.orgs:EMBED', 'app.users:EMBED'].sort(),
    );
  });

  it('a read kept live provides its table as LIVE and its embedded tables, never rows or lists', () => {
    const request = from('memberships', { schema: 'app' }).select('*, org:orgs!fk(name, owner:users(name))').eq('org_id', 1).order('user_id').toRequest();
    expect(ids(liveTags(request))).toEqual(['POSTGREST:ALL', 'app.memberships:LIVE', 'app.orgs:EMBED', 'app.users:EMBED']);
    expect(ids(liveTags(from('posts').select('id').toRequest()))).toEqual(['posts:LIVE']);
    // Nothing a write of known rows invalidates matches it (a tag matches by type, and by id when it has one).
    const write = invalidatedTags(from('posts').update({ title: 'x' }).eq('id', 7).toRequest(), null);
    expect(write.filter((tag) => tag.type === 'posts' && (tag.id === undefined || tag.id === 'LIVE'))).toEqual([]);
    // A write that can't tell which rows it touched invalidates the whole table, live reads included.
    expect(invalidatedTags(from('posts').update({ title: 'x' }).eq('author_id', 7).toRequest(), null)).toContainEqual({ type: 'posts' });
  });

  it('tags function reads by function name', () => {
    expect(ids(providedTags(rpc('top_posts', { n: 3 }).toRequest(), [{ id: 1 }]))).toEqual(['POSTGREST:ALL', 'RPC:top_posts']);
  });
});

describe('tags a write invalidates', () => {
  it('an update by key: that row, the set columns, ANY, EMBED and function reads', () => {
    const request = from('posts').update({ title: 'x' }).eq('id', 7).toRequest();
    expect(ids(invalidatedTags(request, null))).toEqual(['RPC', 'posts:7', 'posts:ANY', 'posts:EMBED', 'posts:LIST:title'].sort());
  });

  it('an update of unknown rows: the whole table', () => {
    expect(ids(invalidatedTags(from('posts').update({ title: 'x' }).eq('author_id', 1).toRequest(), null))).toEqual(['RPC', 'posts']);
  });

  it('an update returning its rows: exactly those rows', () => {
    const request = from('posts').update({ title: 'x' }).eq('author_id', 1).select('id').toRequest();
    expect(ids(invalidatedTags(request, [{ id: 3 }, { id: 4 }]))).toEqual(['RPC', 'posts:3', 'posts:4', 'posts:ANY', 'posts:EMBED', 'posts:LIST:title'].sort());
  });

  it('inserts and deletes change membership: LIST', () => {
    expect(ids(invalidatedTags(from('posts').insert({ id: 9, title: 'x' }).toRequest(), null))).toEqual(['RPC', 'posts:9', 'posts:EMBED', 'posts:LIST'].sort());
    expect(ids(invalidatedTags(from('posts').delete().in('id', [1, 2]).toRequest(), null))).toEqual(['RPC', 'posts:1', 'posts:2', 'posts:EMBED', 'posts:LIST'].sort());
  });

  it('a function call may change anything; a read changes nothing', () => {
    expect(ids(invalidatedTags(rpc('bump', {}).toRequest(), null))).toEqual(['POSTGREST:ALL']);
    expect(invalidatedTags(from('posts').select().toRequest(), [])).toEqual([]);
  });
});

describe('embeddedRelations', () => {
  it('finds relation names behind aliases, hints, spreads and nesting', () => {
    expect(embeddedRelations('id, author:users!posts_author_fkey(name), ...tags(name), comments!inner(id, user:users(name))')).toEqual([
      'users',
      'tags',
      'comments',
      'users',
    ]);
    expect(embeddedRelations('id, price::text, "a,b"')).toEqual([]);
  });
});
