/**
 * Policies rewritten so that what doesn't depend on the row is computed once per check instead of
 * once per row: `owner = auth.uid()` becomes `owner = (select auth.uid())`, Supabase's own advice
 * for RLS performance, applied to the deparsed policy (policies.ts) for the checks only.
 *
 * ## Why it is the same predicate
 * `(select X)` with no FROM is a scalar subquery returning X. When X reads no column of the row,
 * PostgreSQL computes it once per statement (an InitPlan, evaluated when first needed, so an
 * expression that raises still raises only when reached); when it does read one, it stays a
 * per-row subquery. Either way it returns what X returns, with three exceptions this module avoids:
 * a volatile function (once instead of per row: the caller hoists nothing from a policy calling
 * one), an explicit COLLATE (its derivation would become implicit: such groups are left alone), and
 * aggregates (`(select count(*))` is 1: aggregates only occur inside subqueries, whose text is
 * never touched). Only text PostgreSQL's deparser printed is rewritten, and only two shapes: a
 * parenthesized expression and a function call, each where an operand may stand (after an
 * operator, `(`, `,`, AND, OR, NOT, WHEN, THEN, ELSE, or at the start), and only when they name
 * no identifier equal to a column of the table or the table itself (case-insensitively: when in
 * doubt, nothing is hoisted). The caller checks that PostgreSQL parses the result and falls back
 * to the policy as stored otherwise.
 */

interface Token {
  kind: 'string' | 'ident' | 'quoted' | 'number' | 'open' | 'close' | 'comma' | 'op' | 'cast' | 'dot' | 'bracket';
  text: string;
  start: number;
  end: number;
}

/** Keywords after which an operand stands. */
const OPERAND_KEYWORDS = new Set(['and', 'or', 'not', 'when', 'then', 'else']);
/** Keywords that take a parenthesis without being a function call. */
const NOT_CALLS = new Set([
  'any', 'all', 'some', 'in', 'exists', 'array', 'row', 'values', 'select', 'operator', 'and', 'or', 'not', 'case', 'when', 'then',
  'else', 'end', 'is', 'like', 'ilike', 'similar', 'between', 'distinct', 'from', 'collate', 'as', 'on', 'using', 'where', 'with',
]);
/** Words whose presence means a subquery or an explicit collation: left alone. */
const UNTOUCHABLE = new Set(['select', 'values', 'table', 'with', 'collate']);

/** The tokens of deparsed SQL, or null for text this tokenizer doesn't expect. */
function tokenize(sql: string): Token[] | null {
  const tokens: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const char = sql[i]!;
    const start = i;
    if (/\s/.test(char)) {
      i++;
      continue;
    }
    if (char === "'" || ((char === 'E' || char === 'e') && sql[i + 1] === "'")) {
      const escapes = char !== "'";
      i += escapes ? 2 : 1;
      for (;;) {
        if (i >= sql.length) return null;
        if (escapes && sql[i] === '\\') i += 2;
        else if (sql[i] === "'" && sql[i + 1] === "'") i += 2;
        else if (sql[i] === "'") break;
        else i++;
      }
      i++;
      tokens.push({ kind: 'string', text: sql.slice(start, i), start, end: i });
    } else if (char === '"') {
      i++;
      for (;;) {
        if (i >= sql.length) return null;
        if (sql[i] === '"' && sql[i + 1] === '"') i += 2;
        else if (sql[i] === '"') break;
        else i++;
      }
      i++;
      tokens.push({ kind: 'quoted', text: sql.slice(start + 1, i - 1).replace(/""/g, '"'), start, end: i });
    } else if (/[A-Za-z_\u0080-\uffff]/.test(char)) {
      while (i < sql.length && /[A-Za-z0-9_$\u0080-\uffff]/.test(sql[i]!)) i++;
      tokens.push({ kind: 'ident', text: sql.slice(start, i), start, end: i });
    } else if (/[0-9]/.test(char)) {
      while (i < sql.length && /[0-9.eE]/.test(sql[i]!)) i++;
      tokens.push({ kind: 'number', text: sql.slice(start, i), start, end: i });
    } else if (char === '(' || char === ')' || char === ',' || char === '[' || char === ']') {
      i++;
      const kind = char === '(' ? 'open' : char === ')' ? 'close' : char === ',' ? 'comma' : 'bracket';
      tokens.push({ kind, text: char, start, end: i });
    } else if (char === ':' && sql[i + 1] === ':') {
      i += 2;
      tokens.push({ kind: 'cast', text: '::', start, end: i });
    } else if (char === '.') {
      i++;
      tokens.push({ kind: 'dot', text: '.', start, end: i });
    } else if ('+-*/<>=~!@#%^&|`?:'.includes(char)) {
      while (i < sql.length && '+-*/<>=~!@#%^&|`?:'.includes(sql[i]!) && !(sql[i] === ':' && sql[i + 1] === ':')) i++;
      tokens.push({ kind: 'op', text: sql.slice(start, i), start, end: i });
    } else {
      return null;
    }
  }
  return tokens;
}

/**
 * `qual` with its row-independent parts wrapped in `(select ...)`; `names` are the table's column
 * names and the table's own name. Returns `qual` itself when nothing was hoisted or the text is
 * not what the deparser prints.
 */
export function hoistRowIndependent(qual: string, names: readonly string[]): string {
  const tokens = tokenize(qual);
  if (!tokens) return qual;
  const rowNames = new Set(names.map((name) => name.toLowerCase()));
  // Matching parenthesis of every '(' (by token index); unbalanced text is left alone.
  const match = new Map<number, number>();
  const stack: number[] = [];
  for (const [index, token] of tokens.entries()) {
    if (token.kind === 'open') stack.push(index);
    else if (token.kind === 'close') {
      const open = stack.pop();
      if (open === undefined) return qual;
      match.set(open, index);
    }
  }
  if (stack.length > 0) return qual;

  const operandBefore = (index: number) => {
    const previous = tokens[index - 1];
    return (
      previous === undefined ||
      previous.kind === 'open' ||
      previous.kind === 'comma' ||
      previous.kind === 'op' ||
      (previous.kind === 'ident' && OPERAND_KEYWORDS.has(previous.text.toLowerCase()))
    );
  };
  /** Tokens [from, to) read no row value and contain no subquery, collation or top-level list. */
  const rowIndependent = (from: number, to: number, topLevelCommasAllowed: boolean) => {
    let depth = 0;
    for (let index = from; index < to; index++) {
      const token = tokens[index]!;
      if (token.kind === 'open') depth++;
      else if (token.kind === 'close') depth--;
      else if (token.kind === 'comma' && depth === 0 && !topLevelCommasAllowed) return false;
      else if ((token.kind === 'ident' || token.kind === 'quoted') && rowNames.has(token.text.toLowerCase())) return false;
      else if (token.kind === 'ident' && UNTOUCHABLE.has(token.text.toLowerCase())) return false;
    }
    return true;
  };
  const callsAFunction = (from: number, to: number) => {
    for (let index = from; index < to - 1; index++) {
      const token = tokens[index]!;
      // Not a type modifier (`::numeric(10,2)`, `character varying(10)`).
      const previous = tokens[index - 1];
      const typeName = previous !== undefined && (previous.kind === 'cast' || previous.kind === 'ident');
      if (token.kind === 'ident' && tokens[index + 1]!.kind === 'open' && !NOT_CALLS.has(token.text.toLowerCase()) && !typeName) return true;
    }
    return false;
  };

  /** Text ranges to wrap: a group's inside (its parentheses stay), or a whole call. */
  const wraps: Array<{ start: number; end: number; group: boolean }> = [];
  const visit = (from: number, to: number): void => {
    for (let index = from; index < to; index++) {
      const token = tokens[index]!;
      if (token.kind === 'open') {
        const close = match.get(index)!;
        if (containsUntouchable(index + 1, close)) {
          index = close; // a subquery (or a collation): its text is never rewritten
          continue;
        }
        if (operandBefore(index) && rowIndependent(index + 1, close, false) && callsAFunction(index + 1, close)) {
          wraps.push({ start: token.end, end: tokens[close]!.start, group: true });
          index = close;
          continue;
        }
        visit(index + 1, close);
        index = close;
        continue;
      }
      // A call `name(...)` or `schema.name(...)` standing as an operand.
      if ((token.kind === 'ident' || token.kind === 'quoted') && operandBefore(index) && !(token.kind === 'ident' && NOT_CALLS.has(token.text.toLowerCase()))) {
        let nameEnd = index;
        if (tokens[index + 1]?.kind === 'dot' && (tokens[index + 2]?.kind === 'ident' || tokens[index + 2]?.kind === 'quoted')) nameEnd = index + 2;
        const open = nameEnd + 1;
        if (tokens[open]?.kind === 'open' && !(tokens[nameEnd]!.kind === 'ident' && NOT_CALLS.has(tokens[nameEnd]!.text.toLowerCase()))) {
          const close = match.get(open)!;
          if (!containsUntouchable(open + 1, close) && rowIndependent(open + 1, close, true)) {
            wraps.push({ start: token.start, end: tokens[close]!.end, group: false });
            index = close;
            continue;
          }
        }
      }
    }
  };
  const containsUntouchable = (from: number, to: number) => {
    for (let index = from; index < to; index++) {
      const token = tokens[index]!;
      if (token.kind === 'ident' && UNTOUCHABLE.has(token.text.toLowerCase())) return true;
    }
    return false;
  };
  visit(0, tokens.length);
  if (wraps.length === 0) return qual;
  let result = '';
  let at = 0;
  for (const wrap of wraps) {
    const inner = qual.slice(wrap.start, wrap.end);
    result += qual.slice(at, wrap.start) + (wrap.group ? `select ${inner}` : `(select ${inner})`);
    at = wrap.end;
  }
  return result + qual.slice(at);
}
