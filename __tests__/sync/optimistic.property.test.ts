/**
 * The optimistic layer inside the middleware, under random interleavings (fast-check): optimistic
 * inserts, updates and deletes, changes by someone else arriving through the realtime stream, and
 * the writes' responses (success, with the echo before or after the response, or failure) in any
 * order. After every step each live entry must equal its query on the server's table with the
 * pending writes re-applied in order; once everything settled, its query on the server's table.
 * A unit test of the middleware: the realtime server is a fake socket and PostgREST an in-memory
 * fake answering live entries' reads by the same evaluator (itself checked against PostgreSQL).
 */
import fc from 'fast-check';
import { compileRequest, from, toUrl, type PostgrestRequest } from '../../lib/postgrest/index.js';
import { FakeSocket, fakeStore, tick } from './support/fakeRealtime.js';

type Row = { id: number; grp: number; score: number; title: string };
const COLUMNS = [{ name: 'id', type: 'int4' }, { name: 'grp', type: 'int4' }, { name: 'score', type: 'int4' }, { name: 'title', type: 'text' }];
const TYPES = { id: 'int4', grp: 'int4', score: 'int4', title: 'text' };
const ENTRIES = [
  from('items').select('*').order('id'),
  from('items').select('*').eq('grp', 0).order('score').order('id'),
  from('items').select('*').eq('grp', 1).order('score', { ascending: false }).order('id'),
].map((builder) => builder.toRequest());
const BASE = 'http://postgrest.invalid';
const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/** What PostgREST answers for `request` on `table`. */
function answer(request: PostgrestRequest, table: Iterable<Row>): Row[] {
  const query = compileRequest(request, TYPES);
  return [...table].filter((row) => query.matches(row)).sort((a, b) => query.compare(a, b) || a.id - b.id);
}

type Op =
  | { kind: 'insert'; grp: number; score: number }
  | { kind: 'update'; pick: number; score: number; grp: number | null }
  | { kind: 'delete'; pick: number }
  | { kind: 'theirs'; pick: number; score: number; grp: number }
  | { kind: 'respond'; ok: boolean; echoFirst: boolean };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), grp: fc.integer({ min: 0, max: 2 }), score: fc.integer({ min: 0, max: 9 }) }),
  fc.record({ kind: fc.constant('update' as const), pick: fc.nat(), score: fc.integer({ min: 0, max: 9 }), grp: fc.option(fc.integer({ min: 0, max: 2 }), { nil: null }) }),
  fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('theirs' as const), pick: fc.nat(), score: fc.integer({ min: 0, max: 9 }), grp: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ kind: fc.constant('respond' as const), ok: fc.boolean(), echoFirst: fc.boolean() }),
);

interface Held {
  request: PostgrestRequest;
  release: (response: Response) => void;
}

/** `writes` applied in order to `table` (as PostgreSQL would run them). */
function applyWrites(table: Map<number, Row>, writes: readonly PostgrestRequest[]): Map<number, Row> {
  const next = new Map([...table].map(([id, row]) => [id, { ...row }]));
  for (const write of writes) {
    if (write.action === 'insert') {
      const row = write.body as Row;
      next.set(row.id, { ...row });
      continue;
    }
    const id = Number(write.query.find(([key]) => key === 'id')![1].slice(3));
    if (write.action === 'delete') next.delete(id);
    else if (next.has(id)) next.set(id, { ...next.get(id)!, ...(write.body as Partial<Row>) });
  }
  return next;
}

beforeEach(() => {
  FakeSocket.all = [];
});

test('after every step, live entries show the server table with the pending writes re-applied; settled, the server table', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
      const server = new Map<number, Row>([1, 2, 3, 4, 5, 6].map((id) => [id, { id, grp: id % 3, score: id, title: `row ${id}` }]));
      const held: Held[] = [];
      let seq = 1;
      let nextId = 100;
      const fetchFn = (async (input: string, init?: { method?: string; body?: string }) => {
        const url = String(input);
        const method = init?.method ?? 'GET';
        if (method === 'GET') {
          const request = ENTRIES.find((candidate) => toUrl(BASE, candidate) === url);
          return json(request ? answer(request, server.values()) : []);
        }
        // Writes wait until the test answers them.
        const request = pendingRequests.shift()!;
        return new Promise<Response>((release) => held.push({ request, release }));
      }) as unknown as typeof fetch;
      /** The requests of the optimistic writes in the order they were dispatched (their fetches come in that order). */
      const pendingRequests: PostgrestRequest[] = [];
      const made = fakeStore(fetchFn);
      const subscriptions = ENTRIES.map((request) => made.store.dispatch(made.api.endpoints.live.initiate(request as never)));
      const socket = () => FakeSocket.last;
      const topic = 'realtime:live:public.items';
      const push = (type: 'INSERT' | 'UPDATE' | 'DELETE', row: Row) => socket().change(topic, 'items', type, row, ++seq, COLUMNS);
      const entry = (request: PostgrestRequest) => made.api.endpoints.live.select(request as never)(made.store.getState() as never).data as Row[] | undefined;
      for (let i = 0; i < 100 && ENTRIES.some((request) => entry(request) === undefined); i++) await tick();
      /** Dispatched, unanswered writes (their requests as sent), oldest first. */
      const unanswered: PostgrestRequest[] = [];
      const settled: Array<Promise<unknown>> = [];
      const check = (pending: readonly PostgrestRequest[]) => {
        const shown = applyWrites(server, pending);
        for (const request of ENTRIES) expect(entry(request)).toEqual(answer(request, shown.values()));
      };
      try {
        for (const step of ops) {
          const ids = [...applyWrites(server, unanswered).keys()].sort((a, b) => a - b);
          let write: ReturnType<typeof from> | undefined;
          if (step.kind === 'insert') {
            const id = nextId++;
            write = from('items').insert({ id, grp: step.grp, score: step.score, title: `new ${id}` }).select().optimistic() as never;
          } else if ((step.kind === 'update' || step.kind === 'delete') && ids.length > 0) {
            const id = ids[step.pick % ids.length]!;
            write = (step.kind === 'delete' ? from('items').delete().eq('id', id).select() : from('items').update({ score: step.score, ...(step.grp !== null && { grp: step.grp }) }).eq('id', id).select()).optimistic() as never;
          } else if (step.kind === 'theirs' && server.size > 0) {
            const rows = [...server.values()];
            const row = { ...rows[step.pick % rows.length]!, score: step.score, grp: step.grp };
            server.set(row.id, row);
            push('UPDATE', row);
          } else if (step.kind === 'respond' && held.length > 0) {
            const { request, release } = held.shift()!;
            unanswered.shift();
            if (!step.ok) {
              release(json({ code: '23514', message: 'refused', details: null, hint: null }, 400));
            } else {
              // The write runs now: its rows are the server's, and the echo comes before or after the response.
              const before = new Map(server);
              const after = applyWrites(server, [request]);
              server.clear();
              for (const [id, row] of after) server.set(id, row);
              const id = request.action === 'insert' ? (request.body as Row).id : Number(request.query.find(([key]) => key === 'id')![1].slice(3));
              const echo = () => (request.action === 'delete' ? before.has(id) && push('DELETE', before.get(id)!) : server.has(id) && push(request.action === 'insert' ? 'INSERT' : 'UPDATE', server.get(id)!));
              const rows = request.action === 'delete' ? (before.has(id) ? [before.get(id)!] : []) : server.has(id) ? [server.get(id)!] : [];
              if (step.echoFirst) echo();
              release(json(rows, request.action === 'insert' ? 201 : 200));
              if (!step.echoFirst) {
                await tick();
                echo();
              }
            }
          }
          if (write) {
            const request = write.toRequest();
            pendingRequests.push(request);
            unanswered.push(request);
            settled.push((made.store.dispatch(made.api.endpoints.write.initiate(write as never)) as unknown as { unwrap(): Promise<unknown> }).unwrap().catch(() => undefined));
          }
          await tick();
          await tick();
          check(unanswered);
        }
        while (held.length > 0) {
          const { request, release } = held.shift()!;
          unanswered.shift();
          const after = applyWrites(server, [request]);
          const id = request.action === 'insert' ? (request.body as Row).id : Number(request.query.find(([key]) => key === 'id')![1].slice(3));
          const rows = request.action === 'delete' ? (server.has(id) ? [server.get(id)!] : []) : after.has(id) ? [after.get(id)!] : [];
          const existed = server.has(id);
          server.clear();
          for (const [key, row] of after) server.set(key, row);
          release(json(rows, 200));
          if (request.action === 'delete') {
            if (existed) push('DELETE', rows[0]!);
          } else if (server.has(id)) push(request.action === 'insert' ? 'INSERT' : 'UPDATE', server.get(id)!);
          await tick();
        }
        await Promise.all(settled);
        await tick();
        check([]);
        expect(made.sync.selectors.selectWrites(made.store.getState()).filter((write) => write.status === 'pending')).toEqual([]);
      } finally {
        for (const subscription of subscriptions) subscription.unsubscribe();
        made.store.dispatch(made.sync.actions.disconnect());
      }
    }),
    { numRuns: 40 },
  );
}, 120_000);
