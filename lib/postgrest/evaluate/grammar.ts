/**
 * PostgREST 12's filter grammar (see ../values.ts for the quoting rules): a filter value
 * `[not.]op[(modifier)].value`, lists `(a,"b,c")` and logic trees `(a.eq.1,or(b.gt.2,c.lt.3))`.
 * Everything here returns a plain syntax tree; meaning (types, operators) comes later.
 */

/** One `column op value` test. `value` is the text the database receives (lists split into items). */
export interface FilterTest {
  kind: 'test';
  column: string;
  negate: boolean;
  /** Operator name without modifier: `eq`, `in`, `fts` … */
  operator: string;
  /** `any` / `all` / a text search config; undefined when absent. */
  modifier: string | undefined;
  /** Scalar value text, or the items of an `in` list. */
  value: string | string[];
}

/** An `and` / `or` group, possibly negated (`not.or(...)`). */
export interface FilterGroup {
  kind: 'group';
  op: 'and' | 'or';
  negate: boolean;
  children: FilterNode[];
}

export type FilterNode = FilterTest | FilterGroup;

/** A syntax problem, named for the `reasons` list. */
export class GrammarError extends Error {}

const OPERATOR = /^(?:(not)\.)?([a-z]+)(?:\(([^()]*)\))?\.([\s\S]*)$/;

/** A top-level filter pair `column=[not.]op.value`; values are verbatim here (rule 1). */
export function readTopLevelFilter(column: string, value: string): FilterTest {
  const parsed = OPERATOR.exec(value);
  if (!parsed) throw new GrammarError(`filter ${column}=${value} has no operator`);
  const [, not, operator, modifier, rest] = parsed as unknown as [string, string | undefined, string, string | undefined, string];
  return { kind: 'test', column, negate: not === 'not', operator, modifier, value: operator === 'in' ? readList(rest) : rest };
}

/** A logic tree parameter: key `or` / `and` / `not.or` / `not.and`, value `(…)`. */
export function readTopLevelGroup(key: string, value: string): FilterGroup {
  const negate = key.startsWith('not.');
  const op = negate ? key.slice(4) : key;
  if (op !== 'and' && op !== 'or') throw new GrammarError(`unknown logic operator ${key}`);
  const reader = new TreeReader(value);
  const children = reader.group();
  reader.end();
  return { kind: 'group', op, negate, children };
}

/** The items of a PostgREST list `(a,"b,c")`; one empty item means the empty list (rule 3). */
export function readList(text: string): string[] {
  const reader = new TreeReader(text);
  const items = reader.list();
  reader.end();
  return items;
}

class TreeReader {
  private pos = 0;
  constructor(private readonly text: string) {}

  end(): void {
    if (this.pos !== this.text.length) throw new GrammarError(`unexpected text after position ${this.pos} in ${this.text}`);
  }

  private expect(char: string): void {
    if (this.text[this.pos] !== char) throw new GrammarError(`expected "${char}" at position ${this.pos} in ${this.text}`);
    this.pos++;
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos]!)) this.pos++;
  }

  /** `(` item, item… `)` where an item is quoted (with `\` escapes) or runs up to `,` / `)`. */
  list(): string[] {
    this.expect('(');
    const items: string[] = [];
    for (;;) {
      this.skipSpace();
      items.push(this.text[this.pos] === '"' ? this.quoted() : this.bare());
      if (this.text[this.pos] === ',') this.pos++;
      else break;
    }
    this.expect(')');
    return items.length === 1 && items[0] === '' ? [] : items;
  }

  /** `(` node, node… `)`. */
  group(): FilterNode[] {
    this.expect('(');
    const nodes: FilterNode[] = [];
    for (;;) {
      this.skipSpace();
      nodes.push(this.node());
      if (this.text[this.pos] === ',') this.pos++;
      else break;
    }
    this.expect(')');
    return nodes;
  }

  private node(): FilterNode {
    const rest = this.text.slice(this.pos);
    const group = /^(not\.)?(and|or)\(/.exec(rest);
    if (group) {
      this.pos += group[0].length - 1;
      return { kind: 'group', op: group[2] as 'and' | 'or', negate: group[1] !== undefined, children: this.group() };
    }
    // column.[not.]op[(modifier)].value — the column is everything before the first dot that is
    // followed by an operator, so embedded paths (`authors.name.eq.x`) keep their dots.
    for (let dot = rest.indexOf('.'); dot > 0; dot = rest.indexOf('.', dot + 1)) {
      const column = rest.slice(0, dot);
      if (/[,()]/.test(column)) break;
      const op = /^\.(?:(not)\.)?([a-z]+)(?:\(([^()]*)\))?\./.exec(rest.slice(dot));
      if (!op || !isOperatorName(op[2]!)) continue;
      this.pos += dot + op[0].length;
      const operator = op[2]!;
      const value = operator === 'in' ? this.list() : this.value();
      return { kind: 'test', column, negate: op[1] === 'not', operator, modifier: op[3], value };
    }
    throw new GrammarError(`cannot read the condition at ${rest}`);
  }

  /** A single value in a tree: quoted, an unquoted `{…}` array literal, or bare text. */
  private value(): string {
    const char = this.text[this.pos];
    if (char === '"') return this.quoted();
    if (char === '{') {
      const close = this.text.indexOf('}', this.pos);
      const inner = this.text.slice(this.pos + 1, close);
      if (close !== -1 && !inner.includes('{')) {
        const literal = this.text.slice(this.pos, close + 1);
        this.pos = close + 1;
        return literal + this.bare();
      }
    }
    return this.bare();
  }

  private quoted(): string {
    this.expect('"');
    let out = '';
    while (this.pos < this.text.length && this.text[this.pos] !== '"') {
      if (this.text[this.pos] === '\\') this.pos++;
      out += this.text[this.pos++] ?? '';
    }
    this.expect('"');
    return out;
  }

  private bare(): string {
    const start = this.pos;
    while (this.pos < this.text.length && this.text[this.pos] !== ',' && this.text[this.pos] !== ')') this.pos++;
    return this.text.slice(start, this.pos);
  }
}

/** Names the grammar accepts as operators (PostgREST 12), known to the evaluator or not. */
const OPERATOR_NAMES = new Set([
  'eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'like', 'ilike', 'match', 'imatch', 'isdistinct', 'is', 'in',
  'cs', 'cd', 'ov', 'sl', 'sr', 'nxl', 'nxr', 'adj', 'fts', 'plfts', 'phfts', 'wfts',
]);

function isOperatorName(name: string): boolean {
  return OPERATOR_NAMES.has(name);
}
