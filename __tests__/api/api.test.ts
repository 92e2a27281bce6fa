import { jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { from, rpc } from '../../lib/postgrest';
import { closeSql, sql, testStack } from '../support/stack';
import { makeTestStore, settled } from '../support/store';

interface Post {
  id: number;
  author_id: string;
  title: string;
  published: boolean;
  created_at: string;
}

const stack = testStack();
const alice = randomUUID();
const bob = randomUUID();
const tokens: Record<string, string | null> = { current: null };

let alicePost: Post;
let bobPost: Post;

beforeAll(async () => {
  await sql('insert into authors (id, name) values ($1, $2), ($3, $4)', [alice, `alice-${alice}`, bob, `bob-${bob}`]);
  const rows = await sql<Post>(
    `insert into posts (author_id, title, published) values
       ($1, 'alice draft', false), ($1, 'alice public', true), ($2, 'bob draft', false), ($2, 'bob public', true)
     returning *`,
    [alice, bob],
  );
  // pg returns bigint as a string; PostgREST returns it as a JSON number.
  alicePost = { ...rows.find((r) => r.title === 'alice draft')!, id: Number(rows.find((r) => r.title === 'alice draft')!.id) };
  bobPost = { ...rows.find((r) => r.title === 'bob draft')!, id: Number(rows.find((r) => r.title === 'bob draft')!.id) };
});
afterAll(closeSql);

function userStore() {
  return makeTestStore({
    url: stack.postgrestUrl,
    apiKey: stack.anonKey,
    getToken: () => tokens.current,
    primaryKeys: { memberships: ['org_id', 'user_id'] },
  });
}

const ours = () => from<Post>('posts').select('*').in('author_id', [alice, bob]).order('id');

describe('generic read endpoint', () => {
  it('runs a builder chain and keeps every action and the state serializable', async () => {
    const t = userStore();
    tokens.current = null;
    const result = await t.store.dispatch(t.api.endpoints.read.initiate(ours()));
    const expected = await sql<Post>('select id, title from posts where author_id in ($1,$2) and published order by id', [alice, bob]);
    expect((result.data as Post[]).map((p) => ({ id: p.id, title: p.title }))).toEqual(expected.map((p) => ({ id: Number(p.id), title: p.title })));
    expect(t.nonSerializable()).toEqual([]);
    const entry = Object.values(t.store.getState().postgrestApi.queries)[0]!;
    expect(entry.originalArgs).toEqual(ours().toRequest());
  });

  it('shares one cache entry between a builder and the equal request', async () => {
    const t = userStore();
    await t.store.dispatch(t.api.endpoints.read.initiate(ours()));
    await t.store.dispatch(t.api.endpoints.read.initiate(ours().toRequest()));
    expect(Object.keys(t.store.getState().postgrestApi.queries)).toHaveLength(1);
    expect(t.fetchedKeys()).toHaveLength(1);
    expect(t.api.endpoints.read.select(ours())(t.store.getState()).status).toBe('fulfilled');
  });

  it('lets api.util address a cached read by its builder (updateQueryData, upsertQueryData)', async () => {
    const t = userStore();
    tokens.current = null;
    await t.store.dispatch(t.api.endpoints.read.initiate(ours()));
    t.store.dispatch(
      t.api.util.updateQueryData('read', ours(), (draft) => {
        (draft as Post[])[0]!.title = 'patched locally';
      }),
    );
    expect((t.api.endpoints.read.select(ours().toRequest())(t.store.getState()).data as Post[])[0]!.title).toBe('patched locally');
    const seeded = from('posts').select('id').eq('id', -42);
    await t.store.dispatch(t.api.util.upsertQueryData('read', seeded, [{ id: -42 }]));
    expect(t.api.endpoints.read.select(seeded)(t.store.getState()).data).toEqual([{ id: -42 }]);
    expect(t.nonSerializable()).toEqual([]);
  });

  it('returns one row for single, null for maybeSingle on no rows, and { rows, count } with a count', async () => {
    const t = userStore();
    tokens.current = stack.signToken({ sub: alice });
    const one = await t.store.dispatch(t.api.endpoints.read.initiate(from('posts').select('id,title').eq('id', alicePost.id).single()));
    expect(one.data).toEqual({ id: alicePost.id, title: 'alice draft' });
    const none = await t.store.dispatch(t.api.endpoints.read.initiate(from('posts').select('id').eq('id', -1).maybeSingle()));
    expect(none.error).toBeUndefined();
    expect(none.data).toBeNull();
    const counted = await t.store.dispatch(
      t.api.endpoints.read.initiate(from('posts').select('id', { count: 'exact' }).eq('author_id', alice).limit(1)),
    );
    const { n } = (await sql<{ n: string }>('select count(*) as n from posts where author_id = $1', [alice]))[0]!;
    expect(counted.data).toEqual({ rows: [expect.objectContaining({ id: expect.any(Number) })], count: Number(n) });
    const head = await t.store.dispatch(t.api.endpoints.read.initiate(from('posts').select('*', { count: 'exact', head: true }).eq('author_id', alice)));
    expect(head.data).toEqual({ rows: [], count: Number(n) });
  });

  it('calls functions through rpc', async () => {
    const t = userStore();
    const sum = await t.store.dispatch(t.api.endpoints.read.initiate(rpc('add_numbers', { a: 2, b: 40 })));
    expect(sum.data).toBe(42);
    const viaGet = await t.store.dispatch(t.api.endpoints.read.initiate(rpc('add_numbers', { a: 1, b: 1 }, { get: true })));
    expect(viaGet.data).toBe(2);
  });
});

describe('tokens and row level security', () => {
  it('sends the anon key when getToken returns nothing and each user sees only what RLS allows', async () => {
    const t = userStore();
    const titles = async (token: string | null) => {
      tokens.current = token;
      const r = await t.store.dispatch(t.api.endpoints.read.initiate(ours(), { forceRefetch: true }));
      return (r.data as Post[]).map((p) => p.title);
    };
    expect(await titles(null)).toEqual(['alice public', 'bob public']);
    expect(await titles(stack.signToken({ sub: alice }))).toEqual(['alice draft', 'alice public', 'bob public']);
    expect(await titles(stack.signToken({ sub: bob }))).toEqual(['alice public', 'bob draft', 'bob public']);
    // Signing out: the next request goes as anon, never with the stale token.
    expect(await titles(null)).toEqual(['alice public', 'bob public']);
  });

  it('rejects a write that RLS forbids with PostgREST\'s error', async () => {
    const t = userStore();
    tokens.current = stack.signToken({ sub: bob });
    const r = await t.store.dispatch(t.api.endpoints.write.initiate(from('posts').insert({ author_id: alice, title: 'forged' })));
    expect(r.error).toMatchObject({ status: 403, code: '42501', message: expect.stringContaining('row-level security') });
    const { n } = (await sql<{ n: string }>("select count(*) as n from posts where title = 'forged'"))[0]!;
    expect(n).toBe('0');
  });
});

describe('errors arrive as error objects', () => {
  const t = userStore();
  it('names an unknown table', async () => {
    const r = await t.store.dispatch(t.api.endpoints.read.initiate(from('no_such_table').select('*')));
    expect(r.error).toMatchObject({ status: 404, code: expect.any(String), message: expect.stringContaining('no_such_table') });
  });
  it('names an unknown column', async () => {
    const r = await t.store.dispatch(t.api.endpoints.read.initiate(from('posts').select('nope')));
    expect(r.error).toMatchObject({ status: 400, code: '42703', message: expect.stringContaining('nope') });
  });
  it('reports single on many rows', async () => {
    const r = await t.store.dispatch(t.api.endpoints.read.initiate(from('posts').select('id').in('author_id', [alice, bob]).single()));
    expect(r.error).toMatchObject({ status: 406, code: 'PGRST116' });
  });
  it('reports maybeSingle on many rows', async () => {
    const r = await t.store.dispatch(t.api.endpoints.read.initiate(from('posts').select('id').in('author_id', [alice, bob]).maybeSingle()));
    expect(r.error).toMatchObject({ status: 406, code: 'PGRST116' });
  });
  it('reports constraint violations with PostgreSQL\'s code and details', async () => {
    tokens.current = stack.signToken({ sub: alice });
    const check = await t.store.dispatch(t.api.endpoints.write.initiate(from('posts').insert({ author_id: alice, title: '' })));
    expect(check.error).toMatchObject({ status: 400, code: '23514', message: expect.stringContaining('posts_title_check') });
    const unique = await t.store.dispatch(
      t.api.endpoints.write.initiate(from('authors').insert({ id: randomUUID(), name: `alice-${alice}` }), ),
    );
    // anon/authenticated may insert authors (no RLS there): the unique name collides.
    expect(unique.error).toMatchObject({ status: 409, code: '23505', details: expect.stringContaining('already exists') });
  });
  it('passes an argument that is no request to the base query, which answers INVALID_REQUEST', async () => {
    const r = await t.store.dispatch(t.api.endpoints.read.initiate(42 as never));
    expect(r.error).toMatchObject({ status: 'INVALID_REQUEST', message: expect.any(String) });
  });
});

describe('automatic tag invalidation', () => {
  it('refetches exactly the cached reads a write affects', async () => {
    const t = userStore();
    tokens.current = stack.signToken({ sub: alice });
    const reads = {
      alicePosts: from<Post>('posts').select('*').eq('author_id', alice).order('id'),
      bobPosts: from<Post>('posts').select('*').eq('author_id', bob).order('id'),
      alicePost: from<Post>('posts').select('*').eq('id', alicePost.id).single(),
      publishedByTitle: from<Post>('posts').select('id,title').eq('published', true).order('title'),
      items: from('items').select('*').order('id'),
    };
    const keys: Record<string, string> = {};
    for (const [name, builder] of Object.entries(reads)) {
      const sub = t.store.dispatch(t.api.endpoints.read.initiate(builder));
      await sub;
      keys[name] = sub.queryCacheKey;
    }
    const refetched = async (write: () => Promise<unknown>) => {
      const before = t.fetchedKeys().length;
      await write();
      await settled(t.store);
      const names = t.fetchedKeys().slice(before).map((k) => Object.keys(keys).find((n) => keys[n] === k));
      return [...new Set(names)].sort();
    };

    // Updating a title by primary key: the reads holding that row, and reads ordered or filtered by title.
    expect(
      await refetched(() => t.store.dispatch(t.api.endpoints.write.initiate(from('posts').update({ title: 'alice draft 2' }).eq('id', alicePost.id)))),
    ).toEqual(['alicePost', 'alicePosts', 'publishedByTitle']);
    expect(t.api.endpoints.read.select(reads.alicePost)(t.store.getState()).data).toMatchObject({ title: 'alice draft 2' });

    // Publishing changes membership of reads filtered on `published`.
    expect(
      await refetched(() =>
        t.store.dispatch(t.api.endpoints.write.initiate(from('posts').update({ published: true }).eq('id', alicePost.id).select('id'))),
      ),
    ).toEqual(['alicePost', 'alicePosts', 'publishedByTitle']);

    // An insert may join any list of the table, but not a read pinned to another row; never other tables.
    expect(
      await refetched(() => t.store.dispatch(t.api.endpoints.write.initiate(from('posts').insert({ author_id: alice, title: 'new' })))),
    ).toEqual(['alicePosts', 'bobPosts', 'publishedByTitle']);

    // An update with no key filter and no returned rows can touch any row of the table.
    expect(
      await refetched(() =>
        t.store.dispatch(t.api.endpoints.write.initiate(from('posts').update({ published: false }).eq('title', 'new'))),
      ),
    ).toEqual(['alicePost', 'alicePosts', 'bobPosts', 'publishedByTitle']);

    // A failed write changes nothing, so it refetches nothing.
    expect(
      await refetched(() => t.store.dispatch(t.api.endpoints.write.initiate(from('posts').update({ title: '' }).eq('id', alicePost.id)))),
    ).toEqual([]);
    await t.store.dispatch(t.api.endpoints.write.initiate(from('posts').update({ title: 'alice draft', published: false }).eq('id', alicePost.id)));
    expect(t.nonSerializable()).toEqual([]);
  });

  it('refetches reads that embed a table when that table is written, and function reads on any write', async () => {
    const t = userStore();
    tokens.current = stack.signToken({ sub: alice });
    const withAuthor = t.store.dispatch(t.api.endpoints.read.initiate(from('posts').select('id,author:authors(name)').eq('author_id', alice).order('id')));
    const sum = t.store.dispatch(t.api.endpoints.read.initiate(rpc('add_numbers', { a: 1, b: 2 })));
    const items = t.store.dispatch(t.api.endpoints.read.initiate(from('items').select('id').limit(1).order('id')));
    await Promise.all([withAuthor, sum, items]);
    const fetchedAfter = async (write: Parameters<typeof t.api.endpoints.write.initiate>[0]) => {
      const before = t.fetchedKeys().length;
      await t.store.dispatch(t.api.endpoints.write.initiate(write));
      await settled(t.store);
      return t.fetchedKeys().slice(before).sort();
    };
    // Renaming an author: the posts read embedding authors, and the function read; not items.
    expect(await fetchedAfter(from('authors').update({ name: `alice-${alice}-2` }).eq('id', alice))).toEqual(
      [withAuthor.queryCacheKey, sum.queryCacheKey].sort(),
    );
    expect((t.api.endpoints.read.select(from('posts').select('id,author:authors(name)').eq('author_id', alice).order('id'))(t.store.getState()).data as Array<{ author: { name: string } }>)[0]!.author.name).toBe(`alice-${alice}-2`);
    // A function called through write may change anything: every cached read refetches.
    expect(await fetchedAfter(rpc('add_numbers', { a: 0, b: 0 }))).toEqual([withAuthor.queryCacheKey, sum.queryCacheKey, items.queryCacheKey].sort());
    await sql('update authors set name = $1 where id = $2', [`alice-${alice}`, alice]);
  });

  it('uses configured composite primary keys', async () => {
    const t = userStore();
    await sql('insert into memberships (org_id, user_id) values (7, 1), (7, 2) on conflict do nothing');
    const one = from('memberships').select('*').eq('org_id', 7).eq('user_id', 1).single();
    const other = from('memberships').select('*').eq('org_id', 7).eq('user_id', 2).single();
    const a = t.store.dispatch(t.api.endpoints.read.initiate(one));
    const b = t.store.dispatch(t.api.endpoints.read.initiate(other));
    await Promise.all([a, b]);
    const before = t.fetchedKeys().length;
    await t.store.dispatch(t.api.endpoints.write.initiate(from('memberships').update({ role: 'admin' }).eq('org_id', 7).eq('user_id', 1)));
    await settled(t.store);
    expect(t.fetchedKeys().slice(before)).toEqual([a.queryCacheKey]);
    expect(t.api.endpoints.read.select(one)(t.store.getState()).data).toMatchObject({ role: 'admin' });
  });
});

describe('declared endpoints', () => {
  it('derive tags automatically from the request their query returns', async () => {
    tokens.current = stack.signToken({ sub: bob });
    const t = makeTestStore({
      url: stack.postgrestUrl,
      apiKey: stack.anonKey,
      getToken: () => tokens.current,
      endpoints: (build) => ({
        postsByAuthor: build.query<Post[], string>({ query: (author) => from<Post>('posts').select('*').eq('author_id', author).order('id') }),
        renamePost: build.mutation<Post, { id: number; title: string }>({
          query: ({ id, title }) => from<Post>('posts').update({ title }).eq('id', id).select('*').single(),
        }),
        ownTags: build.query<Post[], void>({ query: () => from<Post>('posts').select('*').eq('author_id', bob), providesTags: ['Custom'] }),
      }),
      tagTypes: ['Custom'],
    });
    const list = t.store.dispatch(t.api.endpoints.postsByAuthor.initiate(bob));
    expect((await list).data?.map((p) => p.title)).toEqual(['bob draft', 'bob public']);
    const own = t.store.dispatch(t.api.endpoints.ownTags.initiate());
    await own;
    const before = t.fetchedKeys().length;
    const renamed = await t.store.dispatch(t.api.endpoints.renamePost.initiate({ id: bobPost.id, title: 'bob renamed' }));
    expect(renamed.data).toMatchObject({ id: bobPost.id, title: 'bob renamed' });
    await settled(t.store);
    // The auto-tagged list refetches; the endpoint with its own tags keeps them.
    expect(t.fetchedKeys().slice(before)).toEqual([list.queryCacheKey]);
    expect(t.api.endpoints.postsByAuthor.select(bob)(t.store.getState()).data?.map((p) => p.title)).toEqual(['bob renamed', 'bob public']);
    await t.store.dispatch(t.api.endpoints.renamePost.initiate({ id: bobPost.id, title: 'bob draft' }));
  });

  it('rejects a declared endpoint named like a generic one', () => {
    expect(() =>
      makeTestStore({
        url: stack.postgrestUrl,
        endpoints: (build) => ({ read: build.query<unknown, void>({ query: () => from('posts').select() }) }),
      }),
    ).toThrow(/"read" is reserved/);
  });
});

describe('options are validated', () => {
  it('names a missing or malformed url', () => {
    expect(() => makeTestStore({ url: 'localhost:3000' })).toThrow(/"url" must be PostgREST's http\(s\) URL/);
  });
  it('names a malformed primary key', () => {
    expect(() => makeTestStore({ url: stack.postgrestUrl, primaryKeys: { posts: [] } })).toThrow(/primaryKeys\.posts/);
  });
});

jest.setTimeout(30000);
