/**
 * Filter trees as predicates in SQL's three-valued logic: each returns true, false or null
 * (unknown). A row passes when the whole conjunction is true, so `not.` of an unknown test still
 * fails, as in PostgreSQL.
 */
import { readArrayLiteral } from '../../protocol/pgArrayLiteral.js';
import { domainFor, jsonbContains, type Domain } from './domains.js';
import type { FilterNode, FilterTest } from './grammar.js';
import { likeToRegExp, posixToRegExp } from './patterns.js';
import { foldAscii } from './textOrder.js';
import type { ColumnType, EvaluateOptions, Row } from './types.js';

export type Tri = boolean | null;
export type Predicate = (row: Row) => Tri;

/** What compiling needs: column types, options, and where to record why something is inexact. */
export interface ConditionContext {
  columnType(column: string): ColumnType | undefined;
  options: EvaluateOptions;
  inexact(reason: string): void;
  readColumn(column: string): void;
}

const never: Predicate = () => null;

const JSON_NULL = 'test on json(b), where JSON null and SQL NULL look alike in rows';

const not = (value: Tri): Tri => (value === null ? null : !value);

/** Kleene AND / OR over the children. */
function combine(op: 'and' | 'or', children: Predicate[]): Predicate {
  const stop = op === 'or';
  return (row) => {
    let unknown = false;
    for (const child of children) {
      const value = child(row);
      if (value === null) unknown = true;
      else if (value === stop) return stop;
    }
    return unknown ? null : !stop;
  };
}

/** The predicate of one node; inexact parts are reported to `context`. */
export function compileNode(node: FilterNode, context: ConditionContext, negated = false): Predicate {
  if (node.kind === 'group') {
    const inner = combine(node.op, node.children.map((child) => compileNode(child, context, negated !== node.negate)));
    return node.negate ? (row) => not(inner(row)) : inner;
  }
  const test = compileTest(node, context, negated !== node.negate);
  return node.negate ? (row) => not(test(row)) : test;
}

/** Quantified comparison `x op ANY/ALL(array)` in three-valued logic. */
function quantified(modifier: 'any' | 'all', results: Tri[]): Tri {
  const stop = modifier === 'any';
  let unknown = false;
  for (const value of results) {
    if (value === null) unknown = true;
    else if (value === stop) return stop;
  }
  return unknown ? null : !stop;
}

function compileTest(test: FilterTest, context: ConditionContext, negated: boolean): Predicate {
  const { column, operator } = test;
  const describe = `${column}.${operator}${test.modifier ? `(${test.modifier})` : ''}`;
  if (/->|\.|::/.test(column)) {
    context.inexact(/->/.test(column) ? `json path ${column}` : /::/.test(column) ? `cast ${column}` : `embedded resource filter ${column}`);
    return never;
  }
  context.readColumn(column);
  const read = (row: Row): unknown => row[column] ?? null;
  const domain = domainFor(context.columnType(column), context.options);
  const fail = (reason: string): Predicate => {
    context.inexact(`${describe}: ${reason}`);
    return never;
  };
  const typeName = context.columnType(column)?.type.trim().toLowerCase();
  if (typeName === 'json' || (typeof domain !== 'string' && domain.json)) {
    // PostgREST and change events render a jsonb `null` like SQL NULL, but the database tells them
    // apart: `is.null` is false and negations are true for a jsonb null. Such tests stay with the server.
    if (operator === 'is') return fail(JSON_NULL);
    if (negated) return fail(`negated ${JSON_NULL}`);
    if (operator === 'neq' || operator === 'isdistinct' || test.modifier !== undefined) return fail(`${operator} ${JSON_NULL}`);
    const values = Array.isArray(test.value) ? test.value : operator === 'eq' ? [test.value] : [];
    if (values.some((value) => value.trim() === 'null')) return fail(`${JSON_NULL} (a jsonb null would pass)`);
  }
  if (operator === 'is') return isTest(test, read, context);
  if (typeof domain === 'string') return fail(domain);
  if (test.modifier !== undefined && test.modifier !== 'any' && test.modifier !== 'all') return fail(`modifier (${test.modifier})`);
  const key = (row: Row): unknown => {
    const value = read(row);
    return value === null ? null : (domain.row(value) ?? null);
  };

  switch (operator) {
    case 'eq': case 'neq': case 'gt': case 'gte': case 'lt': case 'lte': {
      if (operator !== 'eq' && operator !== 'neq' && typeof domain.order === 'string') return fail(domain.order);
      if (operator === 'neq' && test.modifier !== undefined) return fail('neq takes no modifier');
      const compare = comparison(operator, domain);
      return scalarTest(test, domain, key, compare, fail);
    }
    case 'isdistinct': {
      if (test.modifier !== undefined) return fail('isdistinct takes no modifier');
      const literal = domain.literal(String(test.value));
      if (!literal.ok) return fail(literal.reason);
      return (row) => {
        const value = key(row);
        return value === null ? true : !domain.equal(value, literal.value);
      };
    }
    case 'in': {
      const items: unknown[] = [];
      for (const item of test.value as string[]) {
        const literal = domain.literal(item);
        if (!literal.ok) return fail(literal.reason);
        items.push(literal.value);
      }
      // PostgREST sends `= ANY('{…}')`: over an empty array that is false even for NULL.
      if (items.length === 0) return () => false;
      return (row) => {
        const value = key(row);
        if (value === null) return null;
        return items.some((item) => domain.equal(value, item));
      };
    }
    case 'like': case 'ilike': case 'match': case 'imatch':
      return patternTest(test, domain, read, fail);
    case 'cs': case 'cd': case 'ov':
      return containerTest(test, domain, key, fail);
    case 'fts': case 'plfts': case 'phfts': case 'wfts':
      return fail('full-text search');
    case 'sl': case 'sr': case 'nxl': case 'nxr': case 'adj':
      return fail('range operator');
    default:
      return fail(`unknown operator ${operator}`);
  }
}

function isTest(test: FilterTest, read: (row: Row) => unknown, context: ConditionContext): Predicate {
  switch (test.value) {
    case 'null': case 'unknown':
      return (row) => read(row) === null;
    case 'true': case 'false': {
      const want = test.value === 'true';
      return (row) => read(row) === want;
    }
    default:
      // PostgREST 12 answers 400 for anything else (`is.not_null` included).
      context.inexact(`${test.column}.is: unknown keyword ${JSON.stringify(test.value)}`);
      return never;
  }
}

function comparison(operator: string, domain: Domain): (row: unknown, literal: unknown) => boolean {
  if (operator === 'eq') return (a, b) => domain.equal(a, b);
  if (operator === 'neq') return (a, b) => !domain.equal(a, b);
  const order = domain.order as (a: unknown, b: unknown) => number;
  switch (operator) {
    case 'gt': return (a, b) => order(a, b) > 0;
    case 'gte': return (a, b) => order(a, b) >= 0;
    case 'lt': return (a, b) => order(a, b) < 0;
    default: return (a, b) => order(a, b) <= 0;
  }
}

/** `x op literal`, or `x op ANY/ALL('{…}')` with NULL elements making a comparison unknown. */
function scalarTest(
  test: FilterTest,
  domain: Domain,
  key: (row: Row) => unknown,
  compare: (row: unknown, literal: unknown) => boolean,
  fail: (reason: string) => Predicate,
): Predicate {
  const text = String(test.value);
  if (test.modifier === undefined) {
    const literal = domain.literal(text);
    if (!literal.ok) return fail(literal.reason);
    return (row) => {
      const value = key(row);
      return value === null ? null : compare(value, literal.value);
    };
  }
  const elements = quantifiedElements(text, domain);
  if (typeof elements === 'string') return fail(elements);
  const modifier = test.modifier as 'any' | 'all';
  return (row) => {
    const value = key(row);
    return quantified(modifier, elements.map((element) => (value === null || element === null ? null : compare(value, element))));
  };
}

/** The elements of an `(any)` / `(all)` array literal read by the domain; null elements kept. */
function quantifiedElements(text: string, domain: Domain): Array<unknown | null> | string {
  const items = readArrayLiteral(text);
  if (!Array.isArray(items)) return `${JSON.stringify(text)} is not an array literal the client reads`;
  const out: unknown[] = [];
  for (const item of items) {
    if (Array.isArray(item)) return 'nested array literal';
    if (item === null) out.push(null);
    else {
      const literal = domain.literal(item);
      if (!literal.ok) return literal.reason;
      out.push(literal.value);
    }
  }
  return out;
}

function patternTest(test: FilterTest, domain: Domain, read: (row: Row) => unknown, fail: (reason: string) => Predicate): Predicate {
  if (domain.text === undefined) return fail(`${test.operator} on a column of type ${domain.type}`);
  const insensitive = test.operator === 'ilike' || test.operator === 'imatch';
  if (insensitive && domain.text.fold !== 'ascii') return fail(domain.text.fold);
  const translate = (pattern: string) =>
    test.operator === 'like' || test.operator === 'ilike' ? likeToRegExp(pattern.replace(/\*/g, '%'), insensitive) : posixToRegExp(pattern, insensitive);
  const patterns: Array<RegExp | null> = [];
  if (test.modifier === undefined) {
    const translated = translate(String(test.value));
    if (!translated.ok) return fail(translated.reason);
    patterns.push(translated.regex);
  } else {
    const items = readArrayLiteral(String(test.value));
    if (!Array.isArray(items) || items.some(Array.isArray)) return fail('pattern array literal');
    for (const item of items) {
      if (item === null) patterns.push(null);
      else {
        const translated = translate(item as string);
        if (!translated.ok) return fail(translated.reason);
        patterns.push(translated.regex);
      }
    }
  }
  const modifier = test.modifier as 'any' | 'all' | undefined;
  return (row) => {
    const value = read(row);
    if (value === null) return modifier === undefined ? null : quantified(modifier, patterns.map(() => null));
    if (typeof value !== 'string') return null;
    const subject = insensitive ? foldAscii(value) : value;
    const results = patterns.map((regex) => (regex === null ? null : regex.test(subject)));
    return modifier === undefined ? results[0]! : quantified(modifier, results);
  };
}

function containerTest(test: FilterTest, domain: Domain, key: (row: Row) => unknown, fail: (reason: string) => Predicate): Predicate {
  if (test.modifier !== undefined) return fail(`${test.operator} takes no modifier`);
  if (domain.json && test.operator === 'ov') return fail('ov on jsonb');
  const literal = domain.literal(String(test.value));
  if (!literal.ok) return fail(literal.reason);
  if (domain.json) {
    const want = literal.value;
    if (test.operator === 'cs' ? jsonbContains(null, want) : jsonbContains(want, null)) return fail(`${JSON_NULL} (a jsonb null would pass)`);
    return test.operator === 'cs'
      ? (row) => nullOr(key(row), (have) => jsonbContains(have, want))
      : (row) => nullOr(key(row), (have) => jsonbContains(want, have));
  }
  const element = domain.element;
  if (element === undefined) return fail(`${test.operator} on a column of type ${domain.type}`);
  // Containment compares elements with `=`, so NULL elements never match anything.
  const within = (needles: unknown[], hay: unknown[]) =>
    needles.every((needle) => needle !== null && hay.some((item) => item !== null && element.equal(item, needle)));
  const want = literal.value as unknown[];
  switch (test.operator) {
    case 'cs': return (row) => nullOr(key(row), (have) => within(want, have as unknown[]));
    case 'cd': return (row) => nullOr(key(row), (have) => within(have as unknown[], want));
    default: return (row) => nullOr(key(row), (have) => (have as unknown[]).some((item) => item !== null && want.some((w) => w !== null && element.equal(item, w))));
  }
}

function nullOr(value: unknown, test: (value: unknown) => boolean): Tri {
  return value === null ? null : test(value);
}
