/** jsonb equality and containment (`@>`) on parsed JSON values, as PostgreSQL defines them. */
import { compareDecimals, decimalOfJson } from '../../protocol/pgNumeric.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function numberEqual(a: number, b: number): boolean {
  const x = decimalOfJson(a);
  const y = decimalOfJson(b);
  return x !== undefined && y !== undefined && compareDecimals(x, y) === 0;
}

/** jsonb `=`: numbers by value, objects by key set (order irrelevant), arrays in order. */
export function jsonbEqual(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return numberEqual(a, b);
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => jsonbEqual(item, b[i]));
  }
  if (isObject(a) || isObject(b)) {
    if (!isObject(a) || !isObject(b)) return false;
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && jsonbEqual(a[key], b[key]));
  }
  return a === b;
}

/**
 * jsonb `a @> b`. Objects: every key of b is in a with a containing value. Arrays: every element of b
 * is contained in some element of a; a top-level array also contains a bare scalar equal to one of its
 * elements (PostgreSQL's special case), but only at the top level.
 */
export function jsonbContains(a: unknown, b: unknown, topLevel = true): boolean {
  if (Array.isArray(a)) {
    if (Array.isArray(b)) return b.every((want) => a.some((have) => (isObject(want) || Array.isArray(want) ? jsonbContains(have, want, false) : !isObject(have) && !Array.isArray(have) && jsonbEqual(have, want))));
    if (topLevel && !isObject(b)) return a.some((have) => !isObject(have) && !Array.isArray(have) && jsonbEqual(have, b));
    return false;
  }
  if (isObject(a)) {
    if (!isObject(b)) return false;
    return Object.keys(b).every((key) => Object.hasOwn(a, key) && containsValue(a[key], b[key]));
  }
  if (Array.isArray(b) || isObject(b)) return false;
  return jsonbEqual(a, b);
}

/** Containment of a value below the top level (no scalar-in-array special case). */
function containsValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) !== Array.isArray(b) || isObject(a) !== isObject(b)) return false;
  return jsonbContains(a, b, false);
}

export type { Json };
