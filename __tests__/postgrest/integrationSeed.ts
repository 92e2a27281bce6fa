/**
 * The fixed data set integration.test.ts reads: 40 `items` (ids 1–40) with NULLs in every column,
 * strings that are special somewhere in PostgREST's or PostgreSQL's grammar, arrays, jsonb, ranges and
 * English text, plus `item_notes` to embed. Columns other than `name` cycle through pools of different
 * lengths so that combinations vary.
 */
import { sql } from '../support/stack';
import { RANGES } from './integrationSupport';

/** One name per seeded item; the index + 1 is its id. */
export const SEED_NAMES: ReadonlyArray<string | null> = [
  'alpha', 'Alpha', 'ALPHA', 'beta', 'a,b', 'dot.ted', 'co:lon', '(paren)', 'quo"te', 'back\\slash',
  '\u00a0nbsp lead', 'trailing\u2003', 'null', 'NULL', '', ' ', 'Ünïcödé', '日本語', '😀 emoji', 'percent%',
  'under_score', 'star*', 'amp&eq=x', 'plus+sign', 'hash#q?', "it's", 'tab\tnew\nline', null, 'gamma', 'delta',
  'true', 'in.(1,2)', 'eq.x', 'a\\"b', '"double quoted"', 'not.is.null', '{a,b}', ' leading space', 'x,y)', 'omega',
];

const TAGS: ReadonlyArray<Array<string | null> | null> = [
  ['red', 'blue'], ['red'], [], null, ['a,b', 'c d'], ['null'], [null, 'x'], ['quo"te', 'back\\slash'], ['{brace}'],
  ['NULL'], ['blue', 'green'], ['red', 'green', 'blue'], [' sp ', ''], ['Ünï', '日本'],
];
const META: readonly unknown[] = [
  { color: 'red', size: 1 }, { color: 'blue', nested: { a: 1 } }, {}, null, { k: 'a,b' }, { list: [1, 2] },
  { color: 'red', size: 2 }, { tags: ['x', 'y'] }, { 'a b': 'c,d' }, { color: 'green' }, [1, 2, 3], 'text',
];
const DURING: ReadonlyArray<string | null> = ['[1,5)', '[5,10)', '[3,7)', 'empty', '[10,)', '(,0)', '[0,1)', null, '[2,4)', '[7,9)', '[-3,3)'];
const BODY: ReadonlyArray<string | null> = [
  'The fat rats ate the cheese', 'A fat cat sat on the mat', 'Rats are not cats', null, 'dogs and cats living together',
  'the quick brown fox', 'fat rats and fat cats', "Cheese: the rats' favourite (really)", '',
];
const SCORE: ReadonlyArray<number | string | null> = [1.5, -0.25, 0, null, 3.14159, 1e-10, -1e10, 2.5, 'NaN'];
const DAY: ReadonlyArray<string | null> = ['2024-02-29', '2024-01-01', null, '1999-12-31', '2026-06-15', '2000-01-01', '2024-03-01'];
const LABEL: ReadonlyArray<string | null> = ['plain', null, 'x', 'plain,too'];
const NOTES: ReadonlyArray<string | null> = ['great', 'meh', 'x', null, 'a,b'];

const pick = <T>(pool: readonly T[], id: number): T => pool[id % pool.length] as T;

/** A uuid that encodes the id, for every fifth item NULL. */
export const refOf = (id: number): string | null => (id % 5 === 0 ? null : `00000000-0000-4000-8000-${String(id).padStart(12, '0')}`);

/** The seeded rows as column → value (the generated `fts` is left to PostgreSQL). */
export function seedRows(): Array<Record<string, unknown>> {
  return SEED_NAMES.map((name, i) => {
    const id = i + 1;
    return {
      id,
      name,
      qty: id % 9 === 0 ? null : ((id * 7) % 11) - 3,
      price: id % 8 === 0 ? null : ((id * 37) % 200) / 4 - 10,
      active: pick([true, false, null], id),
      tags: pick(TAGS, id),
      meta: pick(META, id),
      during: pick(DURING, id),
      body: pick(BODY, id),
      score: pick(SCORE, id),
      day: pick(DAY, id),
      ref: refOf(id),
      label: pick(LABEL, id),
      created_at: new Date(Date.UTC(2025, id % 12, (id % 28) + 1, id % 24)).toISOString(),
    };
  });
}

/** Notes: item n gets n % 4 notes with ids n*10+k. */
export function seedNotes(): Array<Record<string, unknown>> {
  return SEED_NAMES.flatMap((_, i) => {
    const itemId = i + 1;
    return Array.from({ length: itemId % 4 }, (__, k) => ({
      id: itemId * 10 + k,
      item_id: itemId,
      note: pick(NOTES, itemId + k),
      stars: (itemId + k) % 6,
    }));
  });
}

const COLUMNS = 'id, name, qty, price, active, tags, meta, during, body, score, day, ref, label, created_at';

/** Replaces this file's id range of `items` (and their notes, by cascade) with the seed. */
export async function seed(): Promise<void> {
  await sql('delete from items where id >= $1 and id < $2', [...RANGES.seed]);
  await sql(
    `insert into items (${COLUMNS})
     select id, name, qty, price, active, tags, meta, during, body, score, day, ref, label, created_at
     from jsonb_to_recordset($1::jsonb) as r(id bigint, name text, qty int, price numeric, active boolean, tags text[],
       meta jsonb, during int4range, body text, score float8, day date, ref uuid, label text, created_at timestamptz)`,
    [JSON.stringify(seedRows())],
  );
  await sql(
    `insert into item_notes (id, item_id, note, stars)
     select id, item_id, note, stars from jsonb_to_recordset($1::jsonb) as r(id bigint, item_id bigint, note text, stars int)`,
    [JSON.stringify(seedNotes())],
  );
}
