/**
 * postgres_changes filters: the parser (Supabase's grammar and error texts), the compiler's exact
 * cases, and properties against the real PostgreSQL: filter values are accepted, rejected and read
 * exactly as the column type's input function does, and compiled predicates select the same rows
 * as the equivalent SQL WHERE over random rows and random filters.
 */
import fc from 'fast-check';
import pg from 'pg';
import {
  compileFilter,
  MAX_IN_VALUES,
  parseFilter,
  RealtimeFilterError,
  SQL_OPERATORS,
  type CompiledFilter,
  type FilterColumn,
  type FilterCondition,
  type ParsedFilter,
  type RowText,
} from '../../../lib/server/realtime/filters/index';
import { testStack } from '../../support/stack';

function parsed(filter: string | undefined): ParsedFilter {
  const result = parseFilter(filter);
  if (result instanceof RealtimeFilterError) throw new Error(`unexpected ${result.code}: ${result.message}`);
  return result;
}

function parseError(filter: string): RealtimeFilterError {
  const result = parseFilter(filter);
  if (!(result instanceof RealtimeFilterError)) throw new Error(`expected an error for ${filter}, got ${JSON.stringify(result)}`);
  return result;
}

describe('parseFilter', () => {
  test('no filter, an empty one or a blank one has no conditions', () => {
    for (const filter of [undefined, '', '   ']) expect(parsed(filter)).toEqual({ conditions: [] });
  });

  test('splits the column at the first = and the operator at the first dot; the value keeps its dots', () => {
    expect(parsed('id=eq.1').conditions).toEqual([{ column: 'id', negate: false, operator: 'eq', value: '1' }]);
    expect(parsed('host=eq.a.b=c.d').conditions).toEqual([{ column: 'host', negate: false, operator: 'eq', value: 'a.b=c.d' }]);
    for (const operator of ['eq', 'neq', 'lt', 'lte', 'gt', 'gte', 'isdistinct', 'like', 'ilike', 'match', 'imatch']) {
      expect(parsed(`c=${operator}.v`).conditions).toEqual([{ column: 'c', negate: false, operator, value: 'v' }]);
    }
  });

  test('in lists read like PostgreSQL array elements: quotes, escapes, trimming and bare NULL', () => {
    expect(parsed('id=in.(1,2,3)').conditions).toEqual([{ column: 'id', negate: false, operator: 'in', values: ['1', '2', '3'] }]);
    expect(parsed('name=in.("a b",NULL,"NULL",  c d  ,"x,y","q\\"x\\\\",null,\\ e\\ )').conditions[0]).toEqual({
      column: 'name', negate: false, operator: 'in', values: ['a b', null, 'NULL', 'c d', 'x,y', 'q"x\\', null, ' e '],
    });
    expect(parsed('id=in.()').conditions[0]).toMatchObject({ values: [] });
    expect(parsed('id=in.( )').conditions[0]).toMatchObject({ values: [] });
    expect(parsed('name=in.("")').conditions[0]).toMatchObject({ values: [''] });
  });

  test('at most 100 in values', () => {
    const list = (n: number) => `id=in.(${Array.from({ length: n }, (_, i) => i).join(',')})`;
    expect(parsed(list(MAX_IN_VALUES)).conditions[0]).toMatchObject({ operator: 'in' });
    const error = parseError(list(MAX_IN_VALUES + 1));
    expect(error.code).toBe('FILTER_TOO_MANY_VALUES');
    expect(error.message).toBe('Error parsing `filter` params: too many values for `in` filter. Maximum 100');
  });

  test('malformed in lists are errors', () => {
    for (const filter of ['id=in.1,2', 'id=in.(1,2', 'id=in.1)', 'id=in.(1,,2)', 'id=in.(1,)', 'id=in.(a"b)', 'id=in.({1})', 'id=in.("a"b)', 'id=in.("a)']) {
      expect(parseError(filter).code).toBe('FILTER_SYNTAX');
    }
    expect(parseError('id=in.1,2').message).toBe('Error parsing `filter` params: `in` filter value must be wrapped by parentheses');
  });

  test("unknown operators and missing parts are reported in Supabase's words", () => {
    expect(parseError('subject=foo.hey')).toMatchObject({ code: 'FILTER_UNKNOWN_OPERATOR', message: 'Error parsing `filter` params: ["foo", "hey"]' });
    expect(parseError('subject=like_.hey').code).toBe('FILTER_UNKNOWN_OPERATOR');
    expect(parseError('undefined')).toMatchObject({ code: 'FILTER_SYNTAX', message: 'Error parsing `filter` params: ["undefined"]' });
    expect(parseError('id=eq1')).toMatchObject({ code: 'FILTER_SYNTAX', message: 'Error parsing `filter` params: ["id", "eq1"]' });
    expect(parseError('=eq.1').code).toBe('FILTER_EMPTY_COLUMN');
    expect(parseError('id=eq.').code).toBe('FILTER_EMPTY_VALUE');
    expect(parseError('id=eq.1,,name=eq.x').code).toBe('FILTER_SYNTAX');
    expect(parseError('done=is.maybe').code).toBe('FILTER_SYNTAX');
  });

  test('a quoted value is unquoted, so "" is the empty string and a quoted value may hold commas', () => {
    expect(parsed('name=eq.""').conditions[0]).toMatchObject({ value: '' });
    expect(parsed('name=eq."a,b \\" c",id=eq.1').conditions).toEqual([
      { column: 'name', negate: false, operator: 'eq', value: 'a,b " c' },
      { column: 'id', negate: false, operator: 'eq', value: '1' },
    ]);
    // Not one quoted string: kept as written.
    expect(parsed('name=eq."a"b').conditions[0]).toMatchObject({ value: '"a"b' });
    expect(parsed('name=eq.a"b"').conditions[0]).toMatchObject({ value: 'a"b"' });
  });

  test('commas join conditions (AND); not. negates; is takes null, not_null, true, false, unknown', () => {
    expect(parsed('id=gt.0, id=lt.100').conditions).toEqual([
      { column: 'id', negate: false, operator: 'gt', value: '0' },
      { column: 'id', negate: false, operator: 'lt', value: '100' },
    ]);
    expect(parsed('id=not.in.(1,2),done=not.is.TRUE,note=is.null').conditions).toEqual([
      { column: 'id', negate: true, operator: 'in', values: ['1', '2'] },
      { column: 'done', negate: true, operator: 'is', value: 'true' },
      { column: 'note', negate: false, operator: 'is', value: 'null' },
    ]);
  });

  test('a comma followed by no condition is part of the value, as in the historical single-condition grammar', () => {
    expect(parsed('area=eq.Oslo, Norway').conditions).toEqual([{ column: 'area', negate: false, operator: 'eq', value: 'Oslo, Norway' }]);
    expect(parseError('area=eq.Oslo,x=foo.1').code).toBe('FILTER_UNKNOWN_OPERATOR');
  });

  test('oversized filters are refused, and non-strings are errors, not exceptions', () => {
    expect(parseError('x'.repeat(20000)).code).toBe('FILTER_TOO_LONG');
    expect(parseError(Array.from({ length: 40 }, (_, i) => `c${i}=eq.1`).join(',')).code).toBe('FILTER_TOO_LONG');
    expect((parseFilter(42 as unknown as string) as RealtimeFilterError).code).toBe('FILTER_SYNTAX');
  });

  test('never throws, whatever the input', () => {
    const alphabet = fc.constantFrom('=', '.', ',', '(', ')', '"', '\\', ' ', 'eq', 'in', 'not', 'is', 'null', 'NULL', 'id', 'a', '1', '{', '}', '😀', '\u0000');
    const input = fc.oneof(fc.string({ unit: alphabet, maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }));
    const columns: FilterColumn[] = ['id', 'a', 'is', 'not'].flatMap((name) =>
      ['int4', 'text', 'jsonb', 'json', 'bool', 'timestamptz', 'numeric', 'float8', 'uuid', 'date'].map((typname) => ({ name, typname })),
    );
    fc.assert(
      fc.property(input, fc.constantFrom(...columns), (filter, column) => {
        const result = parseFilter(filter);
        if (result instanceof RealtimeFilterError) {
          expect(result.message.length).toBeGreaterThan(0);
          return;
        }
        for (const condition of result.conditions) expect(condition.column).not.toBe('');
        const compiled = compileFilter(result, [column], { textOrderIsCodepoint: true, timeZone: 'UTC' });
        if (!(compiled instanceof RealtimeFilterError)) {
          const test = compiled.kind === 'memory' ? compiled.matches : compiled.prefilter;
          expect(typeof test({ [column.name]: '1' })).toBe('boolean');
        }
      }),
      { numRuns: 2000 },
    );
  });
});

const COLUMNS: FilterColumn[] = [
  { name: 'id', typname: 'int4' },
  { name: 'big', typname: 'int8' },
  { name: 'amount', typname: 'numeric' },
  { name: 'score', typname: 'float8' },
  { name: 'name', typname: 'text' },
  { name: 'done', typname: 'bool' },
  { name: 'ref', typname: 'uuid' },
  { name: 'at', typname: 'timestamptz' },
  { name: 'day', typname: 'date' },
  { name: 'meta', typname: 'jsonb' },
  { name: 'doc', typname: 'json' },
];

function compile(filter: string, options: { textOrderIsCodepoint?: boolean; timeZone?: string } = {}): CompiledFilter | RealtimeFilterError {
  return compileFilter(parsed(filter), COLUMNS, { textOrderIsCodepoint: true, timeZone: 'UTC', ...options });
}

function predicate(filter: string, options: { textOrderIsCodepoint?: boolean; timeZone?: string } = {}): (row: RowText) => boolean {
  const compiled = compile(filter, options);
  if (compiled instanceof RealtimeFilterError) throw new Error(`${compiled.code}: ${compiled.message}`);
  if (compiled.kind !== 'memory') throw new Error(`${filter} needs SQL: ${JSON.stringify(compiled.sql)}`);
  return compiled.matches;
}

describe('compileFilter', () => {
  test('an unknown column or a value the column type cannot read is an error at subscribe time', () => {
    expect(compile('nope=eq.1')).toMatchObject({ code: 'FILTER_UNKNOWN_COLUMN', message: 'invalid column for filter nope' });
    expect(compile('id=eq.abc')).toMatchObject({ code: 'FILTER_INVALID_VALUE', message: 'invalid input syntax for type integer: "abc"' });
    expect(compile('id=eq.2147483648')).toMatchObject({ code: 'FILTER_INVALID_VALUE', message: 'value "2147483648" is out of range for type integer' });
    expect(compile('id=in.(1,x)')).toMatchObject({ code: 'FILTER_INVALID_VALUE' });
    expect(compile('score=eq.1e400')).toMatchObject({ code: 'FILTER_INVALID_VALUE' });
    expect(compile('ref=eq.not-a-uuid')).toMatchObject({ code: 'FILTER_INVALID_VALUE' });
    expect(compile('day=eq.2026-02-30')).toMatchObject({ code: 'FILTER_INVALID_VALUE' });
    expect(compile('done=eq.o')).toMatchObject({ code: 'FILTER_INVALID_VALUE' });
    expect(compile('name=eq."a\u0000b"')).toMatchObject({ code: 'FILTER_INVALID_VALUE' });
    expect(compile('doc=eq.{}')).toMatchObject({ code: 'FILTER_UNSUPPORTED_OPERATOR', message: 'operator does not exist: json = json' });
    expect(compile('id=is.true')).toMatchObject({ code: 'FILTER_UNSUPPORTED_OPERATOR' });
  });

  test('what only PostgreSQL can answer is marked for SQL, with the conditions evaluated here as a prefilter', () => {
    const jsonb = compile('id=eq.1,meta=eq.{"a":1}');
    expect(jsonb).toMatchObject({ kind: 'sql', sql: [{ typname: 'jsonb', reason: 'type', valuesChecked: false }] });
    const prefilter = (jsonb as Extract<CompiledFilter, { kind: 'sql' }>).prefilter;
    expect(prefilter({ id: '2', meta: '{"a": 1}' })).toBe(false);
    expect(prefilter({ id: '1', meta: '{"a": 1}' })).toBe(true);
    expect(compile('name=lt.b', { textOrderIsCodepoint: false })).toMatchObject({ kind: 'sql', sql: [{ reason: 'collation', valuesChecked: true }] });
    expect(compile('name=eq.b', { textOrderIsCodepoint: false })).toMatchObject({ kind: 'memory' });
    expect(compile('name=ilike.b%')).toMatchObject({ kind: 'sql', sql: [{ reason: 'operator' }] });
    expect(compile('at=gt.now')).toMatchObject({ kind: 'sql', sql: [{ reason: 'value', valuesChecked: false }] });
    expect(compile('at=gt.2026-01-01', { timeZone: undefined })).toMatchObject({ kind: 'sql', sql: [{ reason: 'value' }] });
    expect(compile('at=gt.2026-01-01', { timeZone: 'Europe/Paris' })).toMatchObject({ kind: 'sql' });
    expect(compile('at=gt.2026-01-01T00:00:00+01:00', { timeZone: 'Europe/Paris' })).toMatchObject({ kind: 'memory' });
    expect(compileFilter(parsed('name=eq.b'), [{ name: 'name', typname: 'text', nondeterministicCollation: true }], { textOrderIsCodepoint: true })).toMatchObject({
      kind: 'sql',
      sql: [{ reason: 'collation' }],
    });
  });

  test('NULL never passes a comparison, nor its negation; is.null and isdistinct see it', () => {
    for (const filter of ['id=eq.1', 'id=neq.1', 'id=not.eq.1', 'id=lt.1', 'id=in.(1,2)', 'id=not.in.(1,2)', 'id=not.isdistinct.1', 'id=is.not_null']) {
      expect([filter, predicate(filter)({ id: null })]).toEqual([filter, false]);
    }
    expect(predicate('id=is.null')({ id: null })).toBe(true);
    expect(predicate('id=isdistinct.1')({ id: null })).toBe(true);
    expect(predicate('done=is.unknown')({ done: null })).toBe(true);
    expect(predicate('done=not.is.true')({ done: 'f' })).toBe(true);
  });

  test('in: a NULL element turns a miss into NULL; an empty list is false, even for NULL', () => {
    expect(predicate('id=in.(1,NULL)')({ id: '1' })).toBe(true);
    expect(predicate('id=in.(1,NULL)')({ id: '2' })).toBe(false);
    expect(predicate('id=not.in.(1,NULL)')({ id: '2' })).toBe(false);
    expect(predicate('id=not.in.(1)')({ id: '2' })).toBe(true);
    expect(predicate('id=in.()')({ id: '1' })).toBe(false);
    expect(predicate('id=not.in.()')({ id: null })).toBe(true);
  });

  test('a column absent from the row (unchanged TOAST) never passes', () => {
    expect(predicate('name=neq.x')({})).toBe(false);
    expect(predicate('name=is.null')({})).toBe(false);
    expect(compileFilter(parsed('name=eq.a,id=gt.1'), COLUMNS, { textOrderIsCodepoint: true })).toMatchObject({ columns: ['name', 'id'] });
  });

  test('integers and numerics compare exactly, beyond 2^53 and to any scale', () => {
    expect(predicate('big=eq.9007199254740993')({ big: '9007199254740992' })).toBe(false);
    expect(predicate('big=gt.9007199254740992')({ big: '9007199254740993' })).toBe(true);
    expect(predicate('big=eq.-0x8000000000000000')({ big: '-9223372036854775808' })).toBe(true);
    expect(predicate('id=eq. +1_0 ')({ id: '10' })).toBe(true);
    expect(predicate('amount=eq.0.1')({ amount: '0.10' })).toBe(true);
    expect(predicate('amount=lt.12345678901234567890.000000000000000001')({ amount: '12345678901234567890' })).toBe(true);
    expect(predicate('amount=eq.1e3')({ amount: '1000.000' })).toBe(true);
    expect(predicate('amount=gt.Infinity')({ amount: 'NaN' })).toBe(true);
    expect(predicate('amount=eq.nan')({ amount: 'NaN' })).toBe(true);
  });

  test("floats follow PostgreSQL: NaN equals NaN and sorts above Infinity; -0 equals 0", () => {
    expect(predicate('score=eq.NaN')({ score: 'NaN' })).toBe(true);
    expect(predicate('score=gt.Infinity')({ score: 'NaN' })).toBe(true);
    expect(predicate('score=neq.nan')({ score: 'NaN' })).toBe(false);
    expect(predicate('score=eq.0')({ score: '-0' })).toBe(true);
    expect(predicate('score=eq.0.3')({ score: '0.30000000000000004' })).toBe(false);
  });

  test('bool, uuid, text and timestamps read their input forms', () => {
    for (const value of ['true', 't', 'TRUE', 'yes', 'on', '1', ' tr ']) expect(predicate(`done=eq.${value}`)({ done: 't' })).toBe(true);
    for (const value of ['false', 'f', 'no', 'off', 'of', '0']) expect(predicate(`done=eq.${value}`)({ done: 'f' })).toBe(true);
    const ref = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
    for (const value of [ref.toUpperCase(), `{${ref}}`, ref.replace(/-/g, ''), 'a0eebc999c0b4ef8-bb6d6bb9-bd380a11']) {
      expect(predicate(`ref=eq.${value}`)({ ref })).toBe(true);
    }
    // Code point order: U+1F600 sorts after U+FFFD although its UTF-16 code units sort before.
    expect(predicate('name=gt.\ufffd')({ name: '😀' })).toBe(true);
    expect(predicate('at=eq.2026-01-01T10:00:00.5+05:30')({ at: '2026-01-01 04:30:00.5+00' })).toBe(true);
    expect(predicate('at=eq.2026-01-01')({ at: '2026-01-01 00:00:00+00' })).toBe(true);
    expect(predicate('at=lt.infinity')({ at: '294276-12-31 23:59:59.999999+00' })).toBe(true);
    expect(predicate('day=lt.0001-01-01')({ day: '0044-03-15 BC' })).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// Against PostgreSQL

/** A session like the replication connection's, returning every value as its text output. */
async function rawClient(): Promise<pg.Client> {
  const raw = { getTypeParser: () => (value: string) => value } as unknown as pg.CustomTypesConfig;
  const client = new pg.Client({
    connectionString: testStack().databaseUrl,
    options: '-c DateStyle=ISO,MDY -c IntervalStyle=postgres -c TimeZone=UTC',
    types: raw,
  });
  await client.connect();
  return client;
}

let client: pg.Client;
beforeAll(async () => {
  client = await rawClient();
});
afterAll(async () => {
  await client.end();
});

const TYPES = ['int2', 'int4', 'int8', 'numeric', 'float4', 'float8', 'bool', 'uuid', 'date', 'timestamp', 'timestamptz'] as const;

const token = (tokens: string[]) => fc.array(fc.constantFrom(...tokens), { maxLength: 8 }).map((parts) => parts.join(''));
const NUMBER_TOKENS = ['0', '1', '7', '9', '_', '.', 'e', 'E', '+', '-', ' ', '\t', '0x', '0o', '0b', 'a', 'F', 'inf', 'Infinity', 'NaN', 'nan', '00', '5e-324', '1e308', '16777217'];
const digits = (n: number, max: number) => fc.integer({ min: 0, max }).map((value) => String(value).padStart(n, '0'));
const rare = <T,>(common: fc.Arbitrary<T>, unusual: fc.Arbitrary<T>) => fc.oneof({ weight: 12, arbitrary: common }, { weight: 1, arbitrary: unusual });
const isoLike = fc
  .tuple(
    rare(digits(4, 9999), fc.constantFrom('0000', '4713', '4714', '10000')),
    rare(digits(2, 12), fc.constantFrom('00', '13')),
    rare(digits(2, 28), fc.constantFrom('00', '29', '30', '31', '32')),
    fc.option(
      fc.tuple(
        rare(fc.constantFrom('T', ' '), fc.constantFrom('t', '  ')),
        rare(digits(2, 23), fc.constantFrom('24', '25')),
        rare(digits(2, 59), fc.constant('60')),
        fc.option(rare(digits(2, 59), fc.constantFrom('60', '61'))),
        fc.option(rare(fc.stringMatching(/^\d{1,6}$/), fc.stringMatching(/^\d{7,9}$/))),
      ),
      { freq: 4 },
    ),
    fc.option(rare(fc.constantFrom('Z', '+00', '-05', '+05:30', '+0530', '-03:30:15', ' +01', 'z'), fc.constantFrom('+16', '+5', ' UTC', '+05:60'))),
    rare(fc.constantFrom('', ' BC'), fc.constantFrom(' ', ' bc', ' AD')),
  )
  .map(([y, m, d, time, zone, tail]) => {
    const clock = time ? `${time[0]}${time[1]}:${time[2]}${time[3] !== null ? `:${time[3]}${time[4] !== null ? `.${time[4]}` : ''}` : ''}` : '';
    // BC years stay within PostgreSQL's range (4713 BC) most of the time.
    const year = /bc/i.test(tail) && y.length === 4 && y !== '4714' ? String(Number(y) % 4713).padStart(4, '0') : y;
    return `${year}-${m}-${d}${clock}${zone ?? ''}${tail}`;
  });
const INPUTS: Record<(typeof TYPES)[number], fc.Arbitrary<string>> = {
  int2: fc.oneof(token(NUMBER_TOKENS), fc.integer({ min: -40000, max: 40000 }).map(String)),
  int4: fc.oneof(token(NUMBER_TOKENS), fc.integer().map((n) => ` ${n}`), fc.constantFrom('2147483648', '-2147483648', '1_000_000', '0x7FFFFFFF')),
  int8: fc.oneof(token(NUMBER_TOKENS), fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }).map(String)),
  numeric: fc.oneof(token(NUMBER_TOKENS), fc.stringMatching(/^-?\d{0,25}(\.\d{0,25})?(e-?\d{1,3})?$/)),
  float4: fc.oneof(token(NUMBER_TOKENS), fc.float().map(String), fc.double().map(String)),
  float8: fc.oneof(token(NUMBER_TOKENS), fc.double().map(String)),
  bool: fc.oneof(
    token(['t', 'r', 'u', 'e', 'f', 'a', 'l', 's', 'y', 'n', 'o', '1', '0', ' ', 'T', 'O', 'N', 'true', 'false', 'off']),
    fc.constantFrom('t', 'TRUE', 'fa', ' no ', 'ye', 'On', 'OF', 'off', '1', '0'),
  ),
  uuid: fc.oneof(
    token(['a0ee', 'bc99', '9C0B', '-', '{', '}', ' ', '4ef8bb6d', '6bb9bd380a11', '0', 'g']),
    fc.uuid().map((uuid) => uuid.toUpperCase()),
    fc.tuple(fc.uuid(), fc.array(fc.boolean(), { minLength: 7, maxLength: 7 }), fc.boolean()).map(([uuid, hyphens, braces]) => {
      const groups = uuid.replace(/-/g, '').match(/.{4}/g)!;
      const body = groups.map((group, i) => (i < 7 && hyphens[i] ? `${group}-` : group)).join('');
      return braces ? `{${body}}` : body;
    }),
  ),
  date: fc.oneof(
    isoLike,
    fc.tuple(digits(4, 9999), digits(2, 13), digits(2, 32), fc.constantFrom('', ' BC', ' ', ' bc')).map(([y, m, d, tail]) => `${y}-${m}-${d}${tail}`), fc.constantFrom('infinity', '-infinity', '+infinity', 'epoch', ' EPOCH ', 'today', 'abc', '2024-02-29', '2026-02-29', '4714-11-24 BC')),
  timestamp: fc.oneof(isoLike, fc.constantFrom('infinity', '-INFINITY', 'epoch', 'allballs', 'abc')),
  timestamptz: fc.oneof(isoLike, fc.constantFrom('infinity', '-infinity', 'epoch', 'now', 'abc', '2026-01-01 10:00 Europe/Paris')),
};

describe('filter values against PostgreSQL input functions', () => {
  test.each(TYPES)('%s values are accepted, rejected and read as PostgreSQL casts them', async (type) => {
    const counts = { memory: 0, error: 0, sql: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(INPUTS[type], { minLength: 1, maxLength: 40 }), async (inputs) => {
        const { rows } = await client.query<{ v: string; ok: string; cast: string | null }>(
          `select u.v, pg_input_is_valid(u.v, '${type}') as ok, case when pg_input_is_valid(u.v, '${type}') then u.v::${type} end as cast
             from unnest($1::text[]) with ordinality as u(v, i) order by u.i`,
          [inputs.map((input) => input.replace(/\u0000/g, ''))],
        );
        for (const row of rows) {
          const condition: FilterCondition = { column: 'c', negate: false, operator: 'eq', value: row.v };
          const compiled = compileFilter({ conditions: [condition] }, [{ name: 'c', typname: type }], { textOrderIsCodepoint: true, timeZone: 'UTC' });
          if (compiled instanceof RealtimeFilterError) {
            counts.error++;
            expect({ value: row.v, valid: row.ok }).toEqual({ value: row.v, valid: 'f' });
          } else if (compiled.kind === 'memory') {
            counts.memory++;
            expect({ value: row.v, valid: row.ok, matchesItsCast: compiled.matches({ c: row.cast }) }).toEqual({ value: row.v, valid: 't', matchesItsCast: true });
          } else {
            counts.sql++;
          }
        }
      }),
      { numRuns: 40 },
    );
    // The generators reach both sides of the input function, and many values are read here.
    expect(counts.error).toBeGreaterThan(0);
    expect(counts.memory).toBeGreaterThan((counts.memory + counts.sql) / 3);
    expect(counts.memory).toBeGreaterThan((counts.memory + counts.sql + counts.error) / 10);
  });
});

/** Row values (PostgreSQL input text) per column, few enough that filters often hit them. */
const TABLE: Record<string, { type: string; typname: string; values: string[]; extra: string[] }> = {
  i2: { type: 'int2', typname: 'int2', values: ['-32768', '-1', '0', '1', '2', '32767'], extra: ['+1', ' 2 ', '0x1', '1_0', '-0', '0b10'] },
  i4: { type: 'int4', typname: 'int4', values: ['-2147483648', '-1', '0', '1', '2', '2147483647'], extra: ['0o7', '00', '1e1', 'abc'] },
  i8: {
    type: 'int8', typname: 'int8',
    values: ['-9223372036854775808', '0', '1', '9007199254740992', '9007199254740993', '9223372036854775807'],
    extra: ['9007199254740993.0', '0x20000000000001', '-9223372036854775809'],
  },
  n: {
    type: 'numeric', typname: 'numeric',
    values: ['0', '0.10', '-1.5', '1000', '12345678901234567890.1', '12345678901234567890.10000000001', 'NaN', 'Infinity', '-Infinity'],
    extra: ['1e3', '.1', '1_000', 'nan', '-inf', '0x3E8', '1e'],
  },
  f4: { type: 'float4', typname: 'float4', values: ['0', '-0', '0.1', '16777216', '3.4e38', 'NaN', '-Infinity'], extra: ['16777217', '1e39', '0.1000000001'] },
  f8: {
    type: 'float8', typname: 'float8',
    values: ['0', '-0', '0.1', '0.30000000000000004', '1e308', '5e-324', 'NaN', 'Infinity', '-Infinity'],
    extra: ['0.3', 'inf', '-INF', ' 1e308 ', '1e400', '1e-400', '0x10'],
  },
  t: { type: 'text', typname: 'text', values: ['', 'a', 'A', 'a ', 'ab', 'é', '😀', '\ufffd', 'null', 'NULL', 'x,y', 'q"\\'], extra: [' a', 'b'] },
  bc: { type: 'char(3)', typname: 'bpchar', values: ['', 'a', 'a  ', 'ab', 'abc', 'é'], extra: ['a ', 'abcd'] },
  b: { type: 'bool', typname: 'bool', values: ['t', 'f'], extra: ['yes', 'of', 'ON', '1', 'o', '2'] },
  u: {
    type: 'uuid', typname: 'uuid',
    values: ['00000000-0000-0000-0000-000000000000', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'ffffffff-ffff-ffff-ffff-ffffffffffff'],
    extra: ['{A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11}', 'a0eebc999c0b4ef8bb6d6bb9bd380a11', 'a0eebc99'],
  },
  tz: {
    type: 'timestamptz', typname: 'timestamptz',
    values: ['2026-01-01 00:00:00+00', '2026-01-01 10:00:00.5+00', '2025-12-31 23:00:00+00', '2026-01-01 05:00:00+05', 'infinity', '-infinity', '0044-03-15 10:00:00+00 BC'],
    extra: ['2026-01-01', '2026-01-01T10:00:00.5Z', '2026-01-01T15:30:00.500+05:30', 'epoch', '2026-13-01', 'now'],
  },
  ts: {
    type: 'timestamp', typname: 'timestamp',
    values: ['2026-01-01 00:00:00', '2026-01-01 10:00:00.5', '1970-01-01 00:00:00', 'infinity', '0044-03-15 10:00:00 BC'],
    extra: ['2026-01-01T10:00:00.5+05', 'epoch', '2026-01-01 10:00:00.500001'],
  },
  d: { type: 'date', typname: 'date', values: ['2026-01-01', '2025-12-31', '1970-01-01', '0044-03-15 BC', 'infinity', '-infinity'], extra: ['epoch', '2024-02-29', '2026-02-29', '2026-01-01 10:00'] },
};
const NAMES = Object.keys(TABLE);

/** Random values (as input text) beside the fixed ones, for the columns where order is subtle. */
const RANDOM: Record<string, fc.Arbitrary<string>> = {
  i8: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String),
  n: fc.stringMatching(/^-?\d{1,22}(\.\d{1,22})?$/),
  f8: fc.double().map((value) => (Object.is(value, -0) ? '-0' : String(value))),
  t: fc.string({ unit: 'binary', maxLength: 6 }).map((value) => value.replace(/\u0000/g, '')),
  tz: fc
    .date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true })
    .map((date) => date.toISOString().replace(/^\+?0*(\d{4,})/, '$1')),
};
/** A value of `column`: mostly from its pool (so that filters hit rows), sometimes random. */
const valueOf = (column: string, pool: string[]) =>
  RANDOM[column] ? fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...pool) }, { weight: 1, arbitrary: RANDOM[column]! }) : fc.constantFrom(...pool);
const ROW_ID_COLUMNS: FilterColumn[] = NAMES.map((name) => ({ name, typname: TABLE[name]!.typname }));

interface ConditionCase {
  column: string;
  operator: 'eq' | 'neq' | 'lt' | 'lte' | 'gt' | 'gte' | 'in' | 'isdistinct' | 'is';
  negate: boolean;
  value: string;
  /** in: each element, or null for a bare NULL. */
  values: Array<string | null>;
  /** in: how each element is written (quoted, or bare with spaces around when that reads the same). */
  bare: boolean[];
  isValue: 'null' | 'not_null' | 'true' | 'false' | 'unknown';
}

const conditionCase = fc.constantFrom(...NAMES).chain((column) => {
  const pool = [...TABLE[column]!.values, ...TABLE[column]!.extra];
  return fc.record({
    column: fc.constant(column),
    operator: fc.constantFrom('eq', 'neq', 'lt', 'lte', 'gt', 'gte', 'in', 'in', 'isdistinct', 'is') as fc.Arbitrary<ConditionCase['operator']>,
    negate: fc.boolean(),
    value: valueOf(column, pool),
    values: fc.array(fc.option(valueOf(column, pool), { freq: 6 }), { maxLength: 4 }),
    isValue: fc.constantFrom('null', 'not_null', 'true', 'false', 'unknown'),
    bare: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
  });
});

const quote = (value: string) => `"${value.replace(/["\\]/g, '\\$&')}"`;
const SAFE_BARE = /^[^\s{}",\\()]+$/;

/** The filter text for a condition case, as a client would write it. */
function filterText(c: ConditionCase): string {
  const prefix = `${c.column}=${c.negate ? 'not.' : ''}${c.operator}.`;
  if (c.operator === 'is') return `${prefix}${c.isValue}`;
  if (c.operator !== 'in') return prefix + (SAFE_BARE.test(c.value) ? c.value : quote(c.value));
  const elements = c.values.map((value, i) => (value === null ? 'NULL' : c.bare[i] && SAFE_BARE.test(value) && value.toUpperCase() !== 'NULL' ? ` ${value} ` : quote(value)));
  return `${prefix}(${elements.join(',')})`;
}

/** The same condition in SQL, the value bound as a parameter cast to the column type (Supabase's `in`: an array literal). */
function conditionSql(c: ConditionCase, params: unknown[]): string {
  const type = TABLE[c.column]!.typname; // bpchar, not char(3): a typmod would truncate the value
  let sql: string;
  if (c.operator === 'is') sql = `${c.column} is ${c.isValue === 'not_null' ? 'not null' : c.isValue}`;
  else if (c.operator === 'in') {
    params.push(`{${filterText(c).slice(filterText(c).indexOf('(') + 1, -1)}}`);
    sql = `${c.column} = any ($${params.length}::${type}[])`;
  } else {
    params.push(c.value);
    sql = `${c.column} ${SQL_OPERATORS[c.operator]} $${params.length}::${type}`;
  }
  return c.negate ? `not (${sql})` : `(${sql})`;
}

describe('compiled filters against PostgreSQL WHERE', () => {
  beforeAll(async () => {
    const columns = NAMES.map((name) => `${name} ${TABLE[name]!.type}${TABLE[name]!.typname === 'text' || TABLE[name]!.typname === 'bpchar' ? ' collate "C"' : ''}`);
    await client.query(`create temp table filtered (id int primary key, ${columns.join(', ')})`);
  });

  test('random rows, random filters: the predicate selects exactly the rows SQL selects', async () => {
    const row = fc.record(Object.fromEntries(NAMES.map((name) => [name, fc.option(valueOf(name, TABLE[name]!.values), { freq: 5 })])));
    const tally = { compared: 0, rejectedByBoth: 0, sql: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 12 }), fc.array(conditionCase, { minLength: 1, maxLength: 3 }), async (rows, cases) => {
        await client.query('truncate filtered');
        await client.query(
          `insert into filtered select * from jsonb_populate_recordset(null::filtered, $1::jsonb)`,
          [JSON.stringify(rows.map((values, id) => ({ id, ...values })))],
        );
        const texts = (await client.query<Record<string, string | null>>('select * from filtered order by id')).rows;
        const filter = cases.map(filterText).join(',');
        const parsedFilter = parseFilter(filter);
        if (parsedFilter instanceof RealtimeFilterError) throw new Error(`${filter}: ${parsedFilter.message}`);
        const compiled = compileFilter(parsedFilter, ROW_ID_COLUMNS, { textOrderIsCodepoint: true, timeZone: 'UTC' });
        const params: unknown[] = [];
        const where = cases.map((c) => conditionSql(c, params)).join(' and ');
        let expected: string[] | Error;
        try {
          expected = (await client.query<{ id: string }>(`select id from filtered where ${where} order by id`, params)).rows.map((r) => r.id);
        } catch (error) {
          expected = error as Error;
        }
        if (compiled instanceof RealtimeFilterError) {
          // Rejected here only when PostgreSQL rejects it too.
          expect({ filter, postgres: expected instanceof Error ? 'error' : expected }).toEqual({ filter, postgres: 'error' });
          tally.rejectedByBoth++;
          return;
        }
        if (compiled.kind === 'sql') {
          tally.sql++;
          if (compiled.sql.every((condition) => condition.valuesChecked)) expect(expected).not.toBeInstanceOf(Error);
          if (!(expected instanceof Error)) {
            // The prefilter may only drop rows SQL drops.
            const kept = texts.filter((text) => compiled.prefilter(text)).map((text) => text.id);
            expect(expected.filter((id) => !kept.includes(id))).toEqual([]);
          }
          return;
        }
        const ours = texts.filter((text) => compiled.matches(text)).map((text) => text.id!);
        expect({ filter, ids: ours }).toEqual({ filter, ids: expected instanceof Error ? expected.message : expected });
        tally.compared++;
      }),
      { numRuns: 400 },
    );
    expect(tally.compared).toBeGreaterThan(200);
    expect(tally.rejectedByBoth).toBeGreaterThan(0);
  });
});
