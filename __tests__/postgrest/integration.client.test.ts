/**
 * The client methods against the real PostgREST 12.0.2 of the test stack (which the dev stack starts
 * with db-tx-end = commit-allow-override and db-plan-enabled): custom headers, rollback, maxAffected
 * (which 12.0.2 rejects with handling=strict), csv, geojson without PostGIS, explain. Only the
 * `client_notes` table is touched.
 */
import { from, rpc } from '../../lib/postgrest';
import { closeSql, sql } from '../support/stack';
import { data, failure, run } from './integrationSupport';

interface Note {
  id: number;
  body: string | null;
  n: number;
}

const notes = () => from<Note>('client_notes');
const nOf = async (id: number) => Number((await sql<{ n: number }>('select n from client_notes where id = $1', [id]))[0]?.n);

beforeEach(async () => {
  await sql('delete from client_notes');
  await sql("insert into client_notes (id, body, n) values (1, 'one', 0), (2, 'two, with a comma', 0), (3, null, 0)");
});
afterAll(async () => {
  await sql('delete from client_notes');
  await closeSql();
});

describe('setHeader', () => {
  test('a custom header reaches PostgREST and the database sees it in request.headers', async () => {
    await sql(`create or replace function client_header() returns text language sql stable as
      $$ select current_setting('request.headers', true)::json->>'x-client-tag' $$`);
    await sql("notify pgrst, 'reload schema'");
    let outcome = await run(rpc<string>('client_header', {}, { get: true }).setHeader('X-Client-Tag', 'tag-42'));
    for (let i = 0; outcome.error?.code === 'PGRST202' && i < 50; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      outcome = await run(rpc<string>('client_header', {}, { get: true }).setHeader('X-Client-Tag', 'tag-42'));
    }
    expect(outcome.error).toBeUndefined();
    expect(outcome.data).toBe('tag-42');
    expect(outcome.meta?.request.headers).toEqual({ 'X-Client-Tag': 'tag-42' });
  });
});

describe('rollback', () => {
  test('an update answers with the changed row but leaves the table as it was', async () => {
    const row = await data(notes().update({ n: 5 }).eq('id', 1).select().single().rollback());
    expect(row).toEqual({ id: 1, body: 'one', n: 5 });
    expect(await nOf(1)).toBe(0);
  });

  test('an insert is undone and a delete keeps the row', async () => {
    await data(notes().insert({ id: 4, body: 'four' }).rollback());
    await data(notes().delete().eq('id', 2).rollback());
    expect((await sql('select id from client_notes order by id')).map((r) => Number(r.id))).toEqual([1, 2, 3]);
  });
});

describe('maxAffected on PostgREST 12.0.2', () => {
  test('is refused with 400 PGRST122 naming max-affected, and nothing is written', async () => {
    const error = await failure(notes().update({ n: 9 }).lte('id', 3).maxAffected(1));
    expect(error).toEqual({
      status: 400,
      code: 'PGRST122',
      message: 'Invalid preferences given with handling=strict',
      details: 'Invalid preferences: max-affected=1',
      hint: null,
    });
    expect(await nOf(1)).toBe(0);
  });

  test('is refused the same way within the limit, on delete and on a POST rpc', async () => {
    expect((await failure(notes().delete().eq('id', 1).maxAffected(5))).code).toBe('PGRST122');
    expect((await failure(rpc<Note[]>('client_notes_bump', { lo: 1, hi: 3 }).maxAffected(1))).details).toBe('Invalid preferences: max-affected=1');
    expect(await nOf(1)).toBe(0);
    expect((await sql('select count(*)::int as c from client_notes'))[0]?.c).toBe(3);
  });
});

describe('csv', () => {
  test('a read comes back as CSV text with quoting done by PostgREST', async () => {
    const text = await data(notes().select('id,body').order('id').csv());
    expect(text).toBe('id,body\n1,one\n2,"two, with a comma"\n3,');
  });

  test('no rows is a lone newline (PostgREST 12.0.2 sends no header line then); a count stays in meta', async () => {
    expect(await data(notes().eq('id', 99).csv())).toBe('\n');
    const outcome = await run(notes().select('id', { count: 'exact' }).order('id').csv());
    expect(outcome.data).toBe('id\n1\n2\n3');
    expect(outcome.meta?.count).toBe(3);
  });

  test('a write returns its rows as CSV', async () => {
    expect(await data(notes().update({ n: 2 }).eq('id', 1).select('id,n').csv())).toBe('id,n\n1,2');
  });
});

describe('geojson without PostGIS', () => {
  test('sends application/geo+json and the server answers an error, not a crash', async () => {
    const outcome = await run(notes().geojson());
    expect(outcome.meta?.request.headers.Accept).toBe('application/geo+json');
    expect(outcome.error).toMatchObject({ code: '42883', message: 'function st_asgeojson(record) does not exist' });
    expect(typeof outcome.error?.status).toBe('number');
  });
});

describe('explain', () => {
  test('the text plan of a read, as a string', async () => {
    const plan = await data(notes().select('id').eq('id', 1).explain());
    expect(typeof plan).toBe('string');
    expect(plan).toMatch(/client_notes/);
    expect(plan).not.toMatch(/actual time/);
  });

  test('the JSON plan with analyze is PostgreSQL\'s array, untouched (even for single())', async () => {
    const plan = await data(notes().eq('id', 1).single().explain({ format: 'json', analyze: true, verbose: true }));
    expect(Array.isArray(plan)).toBe(true);
    expect(plan[0]).toHaveProperty('Plan');
    expect(plan[0]).toHaveProperty('Execution Time');
    expect(JSON.stringify(plan)).toMatch(/client_notes/);
  });

  test('every option is accepted, for a CSV read', async () => {
    const plan = await data(notes().csv().explain({ analyze: true, verbose: true, settings: true, buffers: true, wal: true }));
    expect(plan).toMatch(/actual time/);
  });

  test('analyze executes a write; with rollback it is undone', async () => {
    await data(notes().update({ n: 7 }).eq('id', 1).rollback().explain({ analyze: true }));
    expect(await nOf(1)).toBe(0);
    const plan = await data(notes().update({ n: 7 }).eq('id', 2).explain({ analyze: true }));
    expect(plan).toMatch(/Update on/);
    expect(await nOf(2)).toBe(7);
  });
});
