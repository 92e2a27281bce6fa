/**
 * pgoutput text → JSON, checked against the real PostgreSQL: for each value, its text output (what
 * pgoutput sends) converted by toJsonValue must deep-equal JSON.parse of to_json(value) (what
 * PostgREST returns). The session uses the settings the replication connection must use
 * (replication/pgValues.ts module notes): DateStyle ISO, MDY; IntervalStyle postgres; the server's TimeZone.
 */
import fc from 'fast-check';
import pg from 'pg';
import { converterFor, toJsonValue, type CompositeAttribute } from '../../../lib/server/realtime/replication/pgValues';
import { testStack } from '../../support/stack';

const SESSION_OPTIONS = '-c DateStyle=ISO,MDY -c IntervalStyle=postgres -c extra_float_digits=1 -c bytea_output=hex -c TimeZone=UTC';

let client: pg.Client;

beforeAll(async () => {
  // Every column arrives as PostgreSQL's text output (what pgoutput sends): no type parsing, and no
  // ::text cast, which differs from the output function for bool ('true') and char(n) (trimmed).
  const raw = { getTypeParser: () => (value: string) => value } as unknown as pg.CustomTypesConfig;
  client = new pg.Client({ connectionString: testStack().databaseUrl, options: SESSION_OPTIONS, types: raw });
  await client.connect();
  await client.query(`
    create type pg_temp.mood as enum ('happy', 'sad');
    create type pg_temp.pair as (n int4, label text, at timestamptz, tags text[], "__proto__" bool);
    create type pg_temp.outer_pair as (inner_pair pg_temp.pair, amounts numeric[]);
    create domain pg_temp.positive as int4 check (value > 0);
  `);
});

afterAll(async () => {
  await client.end();
});

interface Probe {
  text: string | null;
  json: unknown;
  typname: string;
}

/** The value's text output, JSON.parse(to_json(value)) and the (base) typname, from PostgreSQL. */
async function probe(expression: string, params: unknown[] = []): Promise<Probe> {
  const { rows } = await client.query<{ t: string | null; j: string | null; typname: string }>(
    `select v as t, to_json(v)::text as j, ty.typname
       from (select ${expression} as v) s, pg_type ty
      where ty.oid = coalesce(nullif((select typbasetype from pg_type where oid = pg_typeof(s.v)), 0), pg_typeof(s.v))`,
    params,
  );
  const row = rows[0]!;
  return { text: row.t, json: row.j === null ? null : JSON.parse(row.j), typname: row.typname };
}

async function expectConverted(expression: string, params: unknown[] = []): Promise<Probe> {
  const result = await probe(expression, params);
  expect({ expression, value: toJsonValue(result.text, result.typname) }).toEqual({ expression, value: result.json });
  return result;
}

const SCALARS = [
  // integers (int8 beyond 2^53: JSON.parse of PostgREST's digits rounds the same way)
  '0::int2', "'-32768'::int2", '32767::int2', "'-2147483648'::int4", '2147483647::int4', '9007199254740993::int8',
  "'-9223372036854775808'::int8", '9223372036854775807::int8', '4294967295::oid',
  // numeric
  '0::numeric', "'-0'::numeric", '1.50::numeric', '123456789012345678901234567890.123456789::numeric', "'NaN'::numeric",
  "'Infinity'::numeric", "'-Infinity'::numeric", '1e-20::numeric', "'1e300'::numeric", '-0.000001::numeric',
  // floats, negative zero, extremes, specials
  '0.1::float8', "'-0'::float8", "'NaN'::float8", "'Infinity'::float8", "'-Infinity'::float8", '1e308::float8',
  "'5e-324'::float8", '1.7976931348623157e308::float8', '1e21::float8', '1e-7::float8', '123456789.123::float8',
  '0.1::float4', "'-0'::float4", "'NaN'::float4", "'-Infinity'::float4", '3.4e38::float4', "'1e-45'::float4", '16777217::float4',
  // booleans
  'true', 'false',
  // text-like
  "''::text", "'hello'::text", `'a "quoted" \\ back'::text`, "'😀 é ß'::text", "E'line\\nbreak\\ttab'::text", "'NULL'::text",
  "'abc'::varchar(10)", "'ab'::char(4)", `'x'::"char"`, "'relname'::name", "'happy'::pg_temp.mood",
  // json / jsonb (a JSON null is not SQL NULL)
  `'{"a":[1,2,{"b":null}],"c":"é\\u00e9"}'::json`, `'"str"'::json`, "'null'::json", "'123456789012345678901234567890'::json",
  "'1.5e300'::json", `'{"a":1,"a":2}'::json`, `' [ 1 , 2 ] '::json`, `'{"a":1,"a":2}'::jsonb`, `'{"k": [true, false, null, 1.0]}'::jsonb`,
  "'[]'::jsonb", "'1e2'::jsonb", `'"\\u00e9\\ud83d\\ude00"'::jsonb`,
  // dates and times
  "'2026-11-24'::date", "'0044-03-15 BC'::date", "'4714-11-24 BC'::date", "'infinity'::date", "'-infinity'::date",
  "'10000-01-01'::date", "'10:00'::time", "'23:59:59.999999'::time", "'24:00'::time", "'10:00:00.5+05:30'::timetz",
  "'10:00-08'::timetz", "'2026-11-24 10:00:00'::timestamp", "'2026-11-24 10:00:00.123456'::timestamp",
  "'2026-11-24 10:00:00.5'::timestamp", "'0044-03-15 10:00:00 BC'::timestamp", "'infinity'::timestamp", "'-infinity'::timestamp",
  "'294276-12-31 23:59:59.999999'::timestamp", "'2026-11-24 10:00:00.123456+00'::timestamptz", "'2026-11-24 10:00:00+00'::timestamptz",
  "'0044-03-15 10:00:00+00 BC'::timestamptz", "'infinity'::timestamptz", "'-infinity'::timestamptz",
  "'1 day 02:00'::interval", "'-1 mon'::interval", "'1 year 2 mons 3 days 04:05:06.789'::interval", "'0'::interval",
  // everything else prints as its text
  "'1000.5'::money", "'\\x0102ff'::bytea", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid", "'[1,5)'::int4range", "'empty'::int4range",
  "'(1.5,2]'::numrange", "'[2026-01-01 10:00+00,2026-01-02 00:00+00)'::tstzrange", "'[2026-01-01,2026-02-01)'::daterange",
  "'{[1,3),[5,7)}'::int4multirange", "'a fat cat'::tsvector", "'fat & rat'::tsquery", "'192.168.0.1/24'::inet", "'10.0.0.0/8'::cidr",
  "'08:00:2b:01:02:03'::macaddr", "'(1,2)'::point", "'((0,0),(1,1))'::box", "'<(1,2),3>'::circle", "B'101'::bit(3)",
  "B'10'::varbit", "'<a>1</a>'::xml", "'1 2'::int2vector", "'1 2'::oidvector", '1::pg_temp.positive',
];

const ARRAYS = [
  "'{1,2,3}'::int4[]", "'{}'::int4[]", "'{{1,2},{3,4}}'::int4[]", "'[0:1]={1,2}'::int4[]", "'[-2:-1][3:4]={{1,2},{3,4}}'::int4[]",
  "'{NULL,1}'::int4[]", "'{{{1},{2}},{{3},{4}}}'::int4[]", "'{9007199254740993,-9223372036854775808}'::int8[]",
  `'{"a b",NULL,"NULL","",",","null"}'::text[]`, `array['a"b', 'c\\d', 'é😀', ' lead', 'trail ', '{brace}', 'x;y', E'tab\\t']`,
  `'{{"a",NULL},{"NULL","d e"}}'::text[]`, `array['{"a":1}'::jsonb, 'null', '[1,"x"]', '"s"']`, `array['{"a":1}'::json, ' [1, 2] ']`,
  "array['2026-01-01 10:00+00'::timestamptz, null, 'infinity', '2026-01-01 10:00:00.25+00']", "array['2026-01-01 10:00'::timestamp]",
  "'{NaN,Infinity,-Infinity,1.5}'::numeric[]", "array['-0'::float8, 'NaN', 1e300]", "'{t,f,NULL}'::bool[]",
  "array['2026-11-24'::date, '0044-03-15 BC', 'infinity']", "array['((0,0),(1,1))'::box, '((2,2),(3,3))']",
  "array['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid]", "array['\\x00ff'::bytea]", "array['1 day'::interval, '-00:00:01']",
  "array['[1,5)'::int4range, 'empty']", "array['happy'::pg_temp.mood, 'sad']", "array[1000.5::money]", "'{}'::text[]",
];

describe('toJsonValue against PostgreSQL to_json', () => {
  test.each(SCALARS)('scalar %s', async (expression) => {
    await expectConverted(expression);
  });

  test.each(ARRAYS)('array %s', async (expression) => {
    await expectConverted(expression);
  });

  test('SQL NULL is null for every type', async () => {
    for (const type of ['int4', 'numeric', 'bool', 'jsonb', 'timestamptz', 'text', 'int4[]', 'uuid']) {
      const result = await expectConverted(`null::${type}`);
      expect(result.json).toBeNull();
    }
  });

  test('negative zero stays negative zero', async () => {
    expect(Object.is(toJsonValue('-0', 'float8'), -0)).toBe(true);
    expect((await probe("'-0'::float8")).text).toBe('-0');
  });

  test('timestamptz in zones with half-hour, quarter-hour and seconds offsets, before and after 1970', async () => {
    const zones = ['UTC', 'Asia/Kolkata', 'America/St_Johns', 'Asia/Kathmandu', 'Africa/Monrovia', 'America/Los_Angeles', 'Europe/Paris'];
    const instants = [
      '2026-11-24 10:00:00.123456+00', '2026-06-01 00:00+00', '1900-01-01 12:00+00', '1960-06-01 12:00+00', '0044-03-15 10:00+00 BC',
      '1883-11-18 12:00+00',
    ];
    const seenOffsets = new Set<string>();
    try {
      for (const zone of zones) {
        await client.query(`set TimeZone = '${zone}'`);
        for (const instant of instants) {
          const result = await expectConverted(`'${instant}'::timestamptz`);
          seenOffsets.add(/([+-][\d:]+)( BC)?$/.exec(result.text!)![1]!);
          await expectConverted(`array['${instant}'::timestamptz]`);
          await expectConverted(`tstzrange('${instant}'::timestamptz, null)`);
        }
      }
    } finally {
      await client.query('set TimeZone = UTC');
    }
    // The cases cover offsets with minutes and with seconds, not only whole hours.
    expect([...seenOffsets].some((offset) => /^[+-]\d\d:\d\d$/.test(offset))).toBe(true);
    expect([...seenOffsets].some((offset) => /^[+-]\d\d:\d\d:\d\d$/.test(offset))).toBe(true);
  });

  test('composite values become objects when the attributes are given, strings otherwise', async () => {
    const pair: CompositeAttribute[] = [
      { name: 'n', typname: 'int4' },
      { name: 'label', typname: 'text' },
      { name: 'at', typname: 'timestamptz' },
      { name: 'tags', typname: '_text' },
      { name: '__proto__', typname: 'bool' },
    ];
    const composites: Record<string, CompositeAttribute[]> = {
      pair,
      outer_pair: [
        { name: 'inner_pair', typname: 'pair' },
        { name: 'amounts', typname: '_numeric' },
      ],
    };
    const options = { composite: (typname: string) => composites[typname] };
    const expressions = [
      `row(1, 'a "b" \\ c,()', '2026-01-01 10:00+00', array['x y', null], true)::pg_temp.pair`,
      `row(null, '', null, '{}', false)::pg_temp.pair`,
      `row(null, null, null, null, null)::pg_temp.pair`,
      `row(row(2, ' ', 'infinity', array['"'], null)::pg_temp.pair, '{NaN,1.5}')::pg_temp.outer_pair`,
      `array[row(3, 'x', null, null, true)::pg_temp.pair, null]`,
    ];
    for (const expression of expressions) {
      const result = await probe(expression);
      expect(converterFor(result.typname, options)(result.text)).toEqual(result.json);
    }
    const plain = await probe(`row(1, 'x', null, null, null)::pg_temp.pair`);
    expect(toJsonValue(plain.text, plain.typname)).toBe(plain.text);
  });

  test('hstore becomes an object, as its cast to json makes it', async () => {
    await client.query('create extension if not exists hstore');
    for (const literal of [`'"a"=>"1", "b c"=>NULL, "q\\"x"=>"\\\\", "__proto__"=>"p"'`, `''`, `'"é"=>"😀"'`]) {
      await expectConverted(`${literal}::hstore`);
      await expectConverted(`array[${literal}::hstore]`);
    }
  });
});

/** PostgreSQL text cannot hold NUL; anything else goes. */
const pgString = fc.string({ unit: 'binary', maxLength: 12 }).map((s) => s.replace(/\u0000/g, '\u0001'));
const special = fc.constantFrom('', ' ', 'NULL', 'null', '"', '\\', ',', '{', '}', '{}', 'a b', '😀', 'é');
const element = fc.oneof(pgString, special);
const float8Text = (value: number) => (Object.is(value, -0) ? '-0' : String(value));

/** Round-trips a batch of values through `select v::text, to_json(v)::text from unnest($1::type[])`. */
async function expectBatch(type: string, values: unknown[]): Promise<void> {
  const { rows } = await client.query<{ t: string | null; j: string }>(
    `select v as t, to_json(v)::text as j from unnest($1::${type}[]) with ordinality as u(v, i) order by i`,
    [values],
  );
  const typname = (await client.query<{ typname: string }>(`select typname from pg_type where oid = '${type}'::regtype`)).rows[0]!.typname;
  expect(rows.map((row) => toJsonValue(row.t, typname))).toEqual(rows.map((row) => JSON.parse(row.j)));
}

describe('toJsonValue, property against PostgreSQL', () => {
  test('random integers of every width', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: -32768, max: 32767 }), { maxLength: 20 }),
        fc.array(fc.integer(), { maxLength: 20 }),
        fc.array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { maxLength: 20 }),
        async (int2s, int4s, int8s) => {
          await expectBatch('int2', int2s);
          await expectBatch('int4', int4s);
          await expectBatch('int8', int8s.map(String));
        },
      ),
      { numRuns: 30 },
    );
  });

  test('random doubles, floats and decimals (with NaN, infinities and negative zero)', async () => {
    const decimal = fc
      .tuple(fc.boolean(), fc.stringMatching(/^\d{1,40}$/), fc.stringMatching(/^\d{0,30}$/), fc.integer({ min: -60, max: 60 }))
      .map(([negative, whole, fraction, exponent]) => `${negative ? '-' : ''}${whole}.${fraction || '0'}e${exponent}`);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.double(), { maxLength: 20 }),
        fc.array(fc.float(), { maxLength: 20 }),
        fc.array(fc.oneof(decimal, fc.constantFrom('NaN', 'Infinity', '-Infinity')), { maxLength: 20 }),
        async (doubles, floats, decimals) => {
          await expectBatch('float8', doubles.map(float8Text));
          await expectBatch('float4', floats.map(float8Text));
          await expectBatch('numeric', decimals);
        },
      ),
      { numRuns: 30 },
    );
  });

  test('random strings, string arrays with NULLs, nested int arrays and jsonb', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(element, { maxLength: 10 }),
        fc.array(fc.option(element), { maxLength: 8 }),
        fc.array(fc.array(fc.option(fc.integer())), { maxLength: 4 }),
        // jsonb refuses \u0000 and lone surrogates, which JSON.stringify writes as escapes.
        fc.array(fc.jsonValue({ maxDepth: 3 }).filter((value) => !/\\u(0000|d[89a-f])/i.test(JSON.stringify(value))), { maxLength: 5 }),
        async (strings, optionalStrings, rows, jsons) => {
          await expectBatch('text', strings);
          const text = (await client.query<{ t: string; j: string }>('select $1::text[] as t, to_json($1::text[])::text as j', [optionalStrings])).rows[0]!;
          expect(toJsonValue(text.t, '_text')).toEqual(JSON.parse(text.j));
          // A rectangular 2-D int array (rows padded with NULL).
          const width = Math.max(1, ...rows.map((row) => row.length));
          const matrix = rows.map((row) => [...row, ...Array<null>(width - row.length).fill(null)]);
          const ints = (await client.query<{ t: string; j: string }>('select $1::int4[] as t, to_json($1::int4[])::text as j', [matrix])).rows[0]!;
          expect(toJsonValue(ints.t, '_int4')).toEqual(JSON.parse(ints.j));
          await expectBatch('jsonb', jsons.map((value) => JSON.stringify(value)));
        },
      ),
      { numRuns: 30 },
    );
  });

  test('random instants as timestamptz and timestamp, random days as date', async () => {
    const instant = fc.date({ min: new Date('-004000-01-01T00:00:00Z'), max: new Date('+100000-01-01T00:00:00Z'), noInvalidDate: true });
    const micros = fc.integer({ min: 0, max: 999 });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(instant, micros), { maxLength: 20 }), fc.constantFrom('UTC', 'Asia/Kolkata', 'America/St_Johns'), async (values, zone) => {
        await client.query(`set TimeZone = '${zone}'`);
        try {
          // to_timestamp-free: the literal is an ISO instant with microseconds, in UTC.
          const literals = values.map(([date, extra]) => {
            const iso = date.toISOString(); // ±YYYYYY-MM-DDTHH:MM:SS.mmmZ for years outside 0..9999
            const year = date.getUTCFullYear();
            const body = iso.replace(/^[+-]?\d+/, '').slice(0, -1);
            const yearText = year > 0 ? String(year).padStart(4, '0') : String(1 - year).padStart(4, '0');
            return `${yearText}${body}${String(extra).padStart(3, '0')}+00${year > 0 ? '' : ' BC'}`;
          });
          await expectBatch('timestamptz', literals);
          await expectBatch('timestamp', literals);
          await expectBatch('date', literals.map((literal) => literal.replace(/T.*?\+00/, '')));
        } finally {
          await client.query('set TimeZone = UTC');
        }
      }),
      { numRuns: 30 },
    );
  });
});
