/**
 * The `order` parameter (`a.desc.nullslast,b`) as a row comparator. PostgreSQL's defaults: NULLS
 * LAST for ascending, NULLS FIRST for descending.
 */
import { domainFor } from './domains.js';
import type { ColumnType, EvaluateOptions, Row } from './types.js';

export interface OrderTerm {
  column: string;
  descending: boolean;
  nullsFirst: boolean;
}

const TERM = /^(.+?)(?:\.(asc|desc))?(?:\.(nullsfirst|nullslast))?$/;

/** The terms of an `order` value; undefined when a term is not `column[.asc|.desc][.nullsfirst|.nullslast]`. */
export function readOrder(value: string): OrderTerm[] | undefined {
  const terms: OrderTerm[] = [];
  for (const part of value.split(',')) {
    const match = TERM.exec(part.trim());
    if (!match) return undefined;
    const descending = match[2] === 'desc';
    terms.push({ column: match[1]!, descending, nullsFirst: match[3] === undefined ? descending : match[3] === 'nullsfirst' });
  }
  return terms;
}

/** A comparator for the terms; terms the client cannot order exactly are reported and skipped. */
export function compileOrder(
  terms: readonly OrderTerm[],
  columnType: (column: string) => ColumnType | undefined,
  options: EvaluateOptions,
  inexact: (reason: string) => void,
): (a: Row, b: Row) => number {
  const comparators: Array<(a: Row, b: Row) => number> = [];
  for (const term of terms) {
    if (/->|\(|\.|::/.test(term.column)) {
      inexact(/->/.test(term.column) ? `order by json path ${term.column}` : `order by ${term.column} (embedded resource or expression)`);
      continue;
    }
    const domain = domainFor(columnType(term.column), options);
    if (typeof domain === 'string' || typeof domain.order === 'string') {
      inexact(`order by ${term.column}: ${typeof domain === 'string' ? domain : domain.order}`);
      continue;
    }
    const order = domain.order;
    const key = (row: Row) => {
      const value = row[term.column] ?? null;
      return value === null ? null : (domain.row(value) ?? null);
    };
    const direction = term.descending ? -1 : 1;
    const nulls = term.nullsFirst ? -1 : 1;
    comparators.push((a, b) => {
      const x = key(a);
      const y = key(b);
      if (x === null || y === null) return x === y ? 0 : x === null ? nulls : -nulls;
      return direction * order(x, y);
    });
  }
  return (a, b) => {
    for (const comparator of comparators) {
      const result = comparator(a, b);
      if (result !== 0) return result;
    }
    return 0;
  };
}
