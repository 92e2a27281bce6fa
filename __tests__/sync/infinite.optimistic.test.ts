/**
 * An infinite list (offsetPages) next to the sync middleware's optimistic layer and outbox, against
 * the real stack: an optimistic write to its table leaves the `{ pages, pageParams }` entry intact
 * (the layer applies to plain lists only), the write lands through the outbox, and the pages are
 * refetched by their tags with the new row in place. Uses `paged_rows` ids from 900000 (pages.test owns 1–99999).
 */
import { randomUUID } from 'node:crypto';
import { WebSocket } from 'ws';
import { createPostgrestApi, offsetPages } from '../../lib/api/index.js';
import { from } from '../../lib/postgrest/index.js';
import { createSyncMiddleware } from '../../lib/sync/index.js';
import { expectEventually } from '../support/eventually.js';
import { cleanupsAfterAll } from '../support/optimistic.js';
import { sql, testStack } from '../support/stack.js';
import { syncStore } from '../support/store.js';

interface Row {
  id: number;
  list: string;
  title: string;
}

const cleanups = cleanupsAfterAll();

it('an optimistic insert into a paged table keeps the infinite entry intact and lands; the pages refetch with the row', async () => {
  const stack = testStack();
  const list = randomUUID();
  const base = 900_000 + Math.floor(Math.random() * 90_000);
  await sql('insert into paged_rows (id, list, title) select id, $1, $1 || id from unnest($2::bigint[]) as id', [list, [base + 10, base + 20, base + 30]]);
  const api = createPostgrestApi({
    url: stack.postgrestUrl,
    apiKey: stack.anonKey,
    endpoints: (build) => ({
      pages: build.infiniteQuery<Row[], string, number>({ ...offsetPages<Row, string>({ request: (l) => from<Row>('paged_rows').select('*').eq('list', l).order('id'), pageSize: 2 }) }),
    }),
  });
  const sync = createSyncMiddleware({ api, url: stack.realtimeUrl, apiKey: stack.anonKey, WebSocket: WebSocket as never, environment: false, onWarning: () => undefined });
  const { store } = syncStore(api, sync, cleanups);
  const subscription = store.dispatch(api.endpoints.pages.initiate(list));
  cleanups.push(() => subscription.unsubscribe());
  await subscription;
  await store.dispatch(api.endpoints.pages.initiate(list, { direction: 'forward' }));
  const pages = () => (api.endpoints.pages.select(list)(store.getState() as never).data as { pages: Row[][] } | undefined)?.pages.map((page) => page.map((row) => row.id));
  expect(pages()).toEqual([[base + 10, base + 20], [base + 30]]);

  const write = store.dispatch(api.endpoints.write.initiate(from('paged_rows').insert({ id: base + 15, list, title: 'new' }).optimistic() as never));
  // The entry is not a list of rows: the layer leaves it as it was (no crash, no half-patched pages).
  expect(pages()).toEqual([[base + 10, base + 20], [base + 30]]);
  expect(((await write) as { error?: unknown }).error).toBeUndefined();
  expect(sync.selectors.selectOutbox(store.getState())).toEqual([]);
  await expectEventually(() => expect(pages()).toEqual([[base + 10, base + 15], [base + 20, base + 30]]));
}, 30_000);
