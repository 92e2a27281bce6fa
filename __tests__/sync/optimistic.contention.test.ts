/**
 * Ten stores (each with its own socket and live entry) making conditional updates of the same five
 * rows at once, with each strategy. Store i only ever changes its own column `a<i>` (one more than
 * it sees) and the version (one more than it sees). What PostgreSQL holds afterwards proves that no
 * update was lost: every row's version moved once per committed update, every `a<i>` counts exactly
 * store i's committed updates of that row (a merge kept both sides' fields), and every write that
 * did not commit failed with CONFLICT (server-wins always; the retrying strategies only after
 * giving up on a row that kept changing).
 */
import { from } from '../../lib/postgrest/index.js';
import { sql } from '../support/stack.js';
import { eventually } from '../support/eventually.js';
import { stackSyncStore } from '../support/stackStore.js';
import { cleanupsAfterAll } from '../support/optimistic.js';

const STORES = 10;
const UPDATES_PER_STORE = 100;
const ROWS = 5;

type Counter = { id: number; grp: string; version: number } & Record<string, number>;

const cleanups = cleanupsAfterAll();

const makeStore = () => stackSyncStore(cleanups);

let base = process.pid * 100;

describe.each(['server-wins', 'client-wins', 'merge'] as const)('%s under contention', (strategy) => {
  it(`${STORES} stores × ${UPDATES_PER_STORE} conditional updates of ${ROWS} rows: no update lost`, async () => {
    const grp = `${strategy}-${process.pid}`;
    const ids = Array.from({ length: ROWS }, (_, i) => (base += 1));
    await sql(`insert into opt_counters (id, grp) select unnest($1::int4[]), $2`, [ids, grp]);
    const request = from<Counter>('opt_counters').select('*').eq('grp', grp).order('id');
    const stores = Array.from({ length: STORES }, () => makeStore());
    for (const store of stores) cleanups.push(store.store.dispatch(store.api.endpoints.live.initiate(request as never)).unsubscribe);
    const rowsOf = (store: (typeof stores)[number]) => store.api.endpoints.live.select(request as never)(store.store.getState() as never).data as Counter[] | undefined;
    await eventually(() => stores.every((store) => rowsOf(store)?.length === ROWS && store.sync.selectors.selectChannel(store.store.getState(), 'live:public.opt_counters')?.changesLive === true), 20_000);

    const outcomes = await Promise.all(
      stores.map(async (store, i) => {
        const column = `a${i}`;
        const results: Array<{ id: number; ok: boolean; code?: unknown }> = [];
        for (let n = 0; n < UPDATES_PER_STORE; n++) {
          const id = ids[(i + n) % ROWS]!;
          const seen = rowsOf(store)!.find((row) => row.id === id)!;
          const write = store.store.dispatch(
            store.api.endpoints.write.initiate(from('opt_counters').update({ [column]: seen[column]! + 1, version: seen.version + 1 }).eq('id', id).optimistic({ conflict: { column: 'version', strategy } }) as never),
          );
          results.push(
            await write.unwrap().then(
              () => ({ id, ok: true }),
              (error: { code?: unknown }) => ({ id, ok: false, code: error.code }),
            ),
          );
        }
        return results;
      }),
    );

    const all = outcomes.flat();
    // Every write that did not commit failed with CONFLICT.
    expect(all.filter((outcome) => !outcome.ok).map((outcome) => outcome.code)).toEqual(all.filter((outcome) => !outcome.ok).map(() => 'CONFLICT'));
    const truth = (await sql(`select * from opt_counters where grp = $1 order by id`, [grp])) as Counter[];
    for (const row of truth) {
      const committed = all.filter((outcome) => outcome.ok && outcome.id === row.id).length;
      expect(row.version - 1).toBe(committed);
      for (let i = 0; i < STORES; i++) {
        expect(row[`a${i}`]).toBe(outcomes[i]!.filter((outcome) => outcome.ok && outcome.id === row.id).length);
      }
    }
    const committed = all.filter((outcome) => outcome.ok).length;
    if (strategy === 'server-wins') expect(committed).toBeGreaterThan(0);
    else expect(committed).toBeGreaterThan(all.length / 2); // retrying strategies commit most writes
    // Every store ends showing the database's rows, with nothing pending.
    await eventually(() => stores.every((store) => JSON.stringify(rowsOf(store)) === JSON.stringify(truth)), 20_000);
    for (const store of stores) expect(store.sync.selectors.selectSync(store.store.getState()).writes.filter((write) => write.status === 'pending')).toEqual([]);
  }, 60_000);
});
