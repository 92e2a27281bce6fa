/**
 * Property against the real PostgREST 12: for random strings (any code point, graphemes, and the
 * characters special to PostgREST's grammar or to array literals), every filter that quotes its value
 * selects exactly the rows SQL selects with the value as a bound parameter. Each run first inserts rows
 * holding the values and near misses of them, so that matches happen. This file owns ids 1000–9999.
 */
import fc from 'fast-check';
import { from, type PostgrestBuilder } from '../../lib/postgrest';
import { closeSql, sql } from '../support/stack';
import { data, idsOf, RANGES, sorted, type Item } from './integrationSupport';

const [LOW, HIGH] = RANGES.property;

const SPECIAL = [
  ',', '.', ':', '(', ')', '"', '\\', ' ', '\u00a0', '\u2003', '\u3000', '\t', '\n', '\r', '{', '}', '[', ']', '*', '%', '_',
  '&', '=', '+', '#', '?', "'", '/', 'null', 'NULL', 'true', 'not.', 'in.', 'is', 'eq.', 'or=(', 'and', '😀', 'é', 'ß',
];
const unit = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...SPECIAL) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
);
// PostgreSQL text cannot hold NUL (it answers 22021 whatever the client), so NUL becomes U+0001.
const text = fc
  .oneof(
    { weight: 6, arbitrary: fc.string({ unit, maxLength: 8 }) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 10 }) },
    { weight: 1, arbitrary: fc.constantFrom('', ' ', 'null', 'NULL', '""', '\\', '()', ',', 'a,b', '{}', '{a}') },
  )
  .map((s) => s.replace(/\u0000/g, '\u0001'));
const values = fc.uniqueArray(text, { minLength: 3, maxLength: 5 });

/** Strings a wrong quoting or trimming could turn a value into. */
function nearMisses(value: string): string[] {
  return [`"${value}"`, value.trim(), `${value} `, ` ${value}`, value.replace(/[\\"]/g, ''), value.toUpperCase(), `{${value}}`];
}

/** Replaces this file's rows with one per value (tags: it and the next value) and one per near miss. */
async function insertRows(vals: readonly string[]): Promise<void> {
  const rows: Array<{ id: number; name: string | null; tags: string[] | null }> = vals.map((name, i) => ({
    id: LOW + i,
    name,
    tags: [name, vals[(i + 1) % vals.length]!],
  }));
  for (const miss of vals.flatMap(nearMisses)) rows.push({ id: LOW + rows.length, name: miss, tags: [miss] });
  rows.push({ id: LOW + rows.length, name: null, tags: null });
  await sql('delete from items where id >= $1 and id < $2', [LOW, HIGH]);
  await sql('insert into items (id, name, tags) select id, name, tags from jsonb_to_recordset($1::jsonb) as r(id bigint, name text, tags text[])', [
    JSON.stringify(rows),
  ]);
}

type Query = PostgrestBuilder<Item, 'many', true, false>;
const ours = (): Query => from<Item>('items').select('id').gte('id', LOW).lt('id', HIGH);

async function sqlIds(where: string, params: unknown[]): Promise<number[]> {
  return idsOf(await sql<{ id: string }>(`select id from items where id >= ${LOW} and id < ${HIGH} and (${where}) order by id`, params));
}

/** Each filter built from the values, with the SQL meaning it must have. */
function cases([a, b, c]: readonly string[]): Array<[name: string, query: Query, where: string, params: unknown[]]> {
  return [
    ['eq', ours().eq('name', a!), 'name = $1', [a]],
    ['neq', ours().neq('name', a!), 'name <> $1', [a]],
    ['in', ours().in('name', [a!, b!, c!]), 'name = any($1::text[])', [[a, b, c]]],
    ['in one', ours().in('name', [b!]), 'name = $1', [b]],
    ['not.eq', ours().not('name', 'eq', a!), 'not (name = $1)', [a]],
    ['not.in', ours().not('name', 'in', [a!, b!]), 'not (name = any($1::text[]))', [[a, b]]],
    ['or(eq, eq)', ours().or((o) => o.eq('name', a!).eq('name', b!)), 'name = $1 or name = $2', [a, b]],
    ['or(not.eq, in)', ours().or((o) => o.not('name', 'eq', a!).in('name', [b!, c!])), 'not (name = $1) or name = any($2::text[])', [a, [b, c]]],
    ['contains one', ours().contains('tags', [a!]), 'tags @> array[$1::text]', [a]],
    ['contains two', ours().contains('tags', [a!, b!]), 'tags @> $1::text[]', [[a, b]]],
    ['overlaps', ours().overlaps('tags', [b!, c!]), 'tags && $1::text[]', [[b, c]]],
    ['or(contains, eq)', ours().or((o) => o.contains('tags', [b!]).eq('name', c!)), 'tags @> array[$1::text] or name = $2', [b, c]],
  ];
}

afterAll(async () => {
  await sql('delete from items where id >= $1 and id < $2', [LOW, HIGH]);
  await closeSql();
});

test('for random strings, eq, neq, in, not, or and contains select exactly what SQL selects with bound parameters', async () => {
  await fc.assert(
    fc.asyncProperty(values, async (vals) => {
      await insertRows(vals);
      const checks = cases(vals);
      const [found, expected] = await Promise.all([
        Promise.all(checks.map(([, query]) => data(query))),
        Promise.all(checks.map(([, , where, params]) => sqlIds(where, params))),
      ]);
      checks.forEach(([name], i) => {
        if (JSON.stringify(sorted(idsOf(found[i]!))) !== JSON.stringify(expected[i])) {
          throw new Error(`${name}: PostgREST selected ${JSON.stringify(sorted(idsOf(found[i]!)))}, SQL ${JSON.stringify(expected[i])}`);
        }
      });
      // The value rows were inserted, so eq and contains must match them: the run was not vacuous.
      const of = (name: string) => expected[checks.findIndex(([n]) => n === name)];
      expect(of('eq')).toContain(LOW);
      expect(of('contains one')).toContain(LOW);
    }),
    { numRuns: 100 },
  );
});
