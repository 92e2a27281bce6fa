/**
 * Property tests: whatever string a caller passes, the request says exactly that string. The parsers
 * below follow PostgREST 12's grammar (QueryParams.hs: pListVal, pLogicTree, pQuotedValue) and
 * PostgreSQL's array literal input, independently of the encoder.
 */
import fc from 'fast-check';
import { from, toUrl } from '../../lib/postgrest';

/** A cursor over a string with the primitives both grammars share. */
class Cursor {
  pos = 0;
  constructor(readonly text: string) {}
  peek(): string | undefined {
    return this.text[this.pos];
  }
  expect(char: string): void {
    if (this.text[this.pos] !== char) throw new Error(`expected ${char} at ${this.pos} in ${this.text}`);
    this.pos += 1;
  }
  /** `"…"` with `\` escaping the next character. */
  quoted(): string {
    this.expect('"');
    let out = '';
    while (this.peek() !== '"') {
      if (this.peek() === undefined) throw new Error(`unterminated quote in ${this.text}`);
      if (this.peek() === '\\') this.pos += 1;
      out += this.text[this.pos];
      this.pos += 1;
    }
    this.pos += 1;
    return out;
  }
  /** PostgREST's `lexeme` skips whitespace after `(` (and after `,` in logic trees). */
  skipSpaces(): void {
    while (this.peek() !== undefined && /\s/.test(this.peek()!)) this.pos += 1;
  }
  /** Characters up to (not including) one of `stops`. */
  until(stops: string): string {
    const start = this.pos;
    while (this.peek() !== undefined && !stops.includes(this.peek()!)) this.pos += 1;
    return this.text.slice(start, this.pos);
  }
  /** A list element or logic value: quoted (and then followed by a delimiter) or bare. */
  element(stops: string): string {
    if (this.peek() === '"') {
      const value = this.quoted();
      if (this.peek() === undefined || !stops.includes(this.peek()!)) throw new Error(`text after quoted value in ${this.text}`);
      return value;
    }
    return this.until(stops);
  }
}

/** PostgREST list `(a,"b")`; a single empty element is the empty list. */
function parseList(cursor: Cursor): string[] {
  cursor.expect('(');
  cursor.skipSpaces();
  const items = [cursor.element(',)')];
  while (cursor.peek() === ',') {
    cursor.pos += 1;
    items.push(cursor.element(',)'));
  }
  cursor.expect(')');
  return items.length === 1 && items[0] === '' ? [] : items;
}

type TreeNode = { group: string; children: TreeNode[] } | { column: string; operator: string; value: string | string[] };

/** One logic tree `(cond,and(cond,…),…)`. */
function parseTree(cursor: Cursor): TreeNode[] {
  cursor.expect('(');
  cursor.skipSpaces();
  const nodes = [parseNode(cursor)];
  while (cursor.peek() === ',') {
    cursor.pos += 1;
    cursor.skipSpaces();
    nodes.push(parseNode(cursor));
  }
  cursor.expect(')');
  return nodes;
}

function parseNode(cursor: Cursor): TreeNode {
  const group = /^(not\.)?(and|or)\(/.exec(cursor.text.slice(cursor.pos));
  if (group) {
    cursor.pos += group[0].length - 1;
    return { group: `${group[1] ?? ''}${group[2]}`, children: parseTree(cursor) };
  }
  const head = /^([a-z_]+)\.((?:not\.)?[a-z]+(?:\([a-z_]*\))?)\./.exec(cursor.text.slice(cursor.pos));
  if (!head) throw new Error(`bad condition at ${cursor.pos} in ${cursor.text}`);
  cursor.pos += head[0].length;
  const operator = head[2]!;
  if (operator.endsWith('in')) return { column: head[1]!, operator, value: parseList(cursor) };
  if (cursor.peek() === '{') {
    const literal = cursor.until('}');
    cursor.expect('}');
    return { column: head[1]!, operator, value: `${literal}}` };
  }
  return { column: head[1]!, operator, value: cursor.element(',)') };
}

/** PostgreSQL one-dimensional array literal `{a,"b c",NULL}`. */
function parseArrayLiteral(text: string): Array<string | null> {
  const cursor = new Cursor(text);
  cursor.expect('{');
  const items: Array<string | null> = [];
  if (cursor.peek() === '}') return items;
  for (;;) {
    if (cursor.peek() === '"') items.push(cursor.quoted());
    else {
      const bare = cursor.until(',}');
      items.push(bare.toUpperCase() === 'NULL' ? null : bare);
    }
    if (cursor.peek() === '}') break;
    cursor.expect(',');
  }
  return items;
}

/** Strings built from the characters that matter to the grammars, plus any unicode. */
const hostile = fc.oneof(
  fc.string({ unit: fc.constantFrom(',', '.', ':', '(', ')', '"', '\\', ' ', '\t', '{', '}', '*', '%', '+', '&', '#', '?', '=', 'a', 'n', 'u', 'l', 'ñ', '🎉') }),
  fc.string({ unit: 'grapheme' }),
  fc.constantFrom('', 'null', 'NULL', 'true', 'false', 'unknown', ' ', '""', 'not', 'in'),
);

const valueOf = (query: Array<[string, string]>, key: string) => query.find(([k]) => k === key)?.[1];

test('values in `in` parse back to the same strings', () => {
  fc.assert(
    fc.property(fc.array(hostile, { maxLength: 5 }), (values) => {
      const encoded = valueOf(from('t').in('s', values).toRequest().query, 's')!;
      expect(encoded.startsWith('in.')).toBe(true);
      const cursor = new Cursor(encoded.slice(3));
      const parsed = parseList(cursor);
      expect(cursor.pos).toBe(cursor.text.length);
      // A lone empty string is sent twice (PostgREST reads `("")` as the empty list): same set.
      expect(parsed).toEqual(values.length === 1 && values[0] === '' ? ['', ''] : values);
    }),
    { numRuns: 500 },
  );
});

test('values in a nested or/and tree parse back to the same strings', () => {
  fc.assert(
    fc.property(hostile, hostile, (a, b) => {
      const builder = from('t').or((q) => q.eq('s', a).and((x) => x.neq('s', b).in('s', [a, b])).not('s', 'like', b).contains('arr', [a, b]));
      const encoded = valueOf(builder.toRequest().query, 'or')!;
      const cursor = new Cursor(encoded);
      const tree = parseTree(cursor);
      expect(cursor.pos).toBe(encoded.length);
      expect(tree).toHaveLength(4);
      expect(tree[0]).toEqual({ column: 's', operator: 'eq', value: a });
      expect(tree[1]).toEqual({
        group: 'and',
        children: [
          { column: 's', operator: 'neq', value: b },
          { column: 's', operator: 'in', value: [a, b] },
        ],
      });
      expect(tree[2]).toEqual({ column: 's', operator: 'not.like', value: b });
      const contains = tree[3] as { operator: string; value: string };
      expect(contains.operator).toBe('cs');
      expect(parseArrayLiteral(contains.value)).toEqual([a, b]);
    }),
    { numRuns: 500 },
  );
});

test('top-level eq values are the exact string after the operator', () => {
  fc.assert(
    fc.property(hostile, (value) => {
      expect(valueOf(from('t').eq('s', value).toRequest().query, 's')).toBe(`eq.${value}`);
    }),
  );
});

test('toUrl never leaves a raw &, #, ? or space inside a key or value, and decodes back to the pairs', () => {
  fc.assert(
    fc.property(hostile, hostile, (a, b) => {
      const request = from('t').select('id').eq('s', a).or((q) => q.eq('s', b).in('s', [a])).toRequest();
      const url = toUrl('http://localhost:3000', request);
      const [path, queryString, ...rest] = url.split('?');
      expect(path).toBe('http://localhost:3000/t');
      expect(rest).toEqual([]);
      expect(url).not.toMatch(/[#\s]/);
      const parts = queryString!.split('&');
      expect(parts).toHaveLength(request.query.length);
      expect(parts.map((part) => part.split('=').map(decodeURIComponent))).toEqual(request.query);
    }),
    { numRuns: 500 },
  );
});
