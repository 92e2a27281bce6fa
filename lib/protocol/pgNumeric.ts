/**
 * Values of integer and numeric columns, read and ordered exactly as PostgreSQL does: integers by
 * int2in/int4in/int8in's rules, numerics as exact decimals (never through a double).
 */
import { invalidSyntax, NEEDS_SQL, trimCSpace, ValueRejected, type ValueDomain } from './pgValueDomain.js';

/** The digits of an integer in `base` from `text` at `at`, with PostgreSQL 16's underscore rules. */
function readDigits(text: string, at: number, base: 2 | 8 | 10 | 16, underscoreFirst: boolean): { digits: string; end: number } | undefined {
  let digits = '';
  let i = at;
  for (;;) {
    const c = text.charAt(i);
    if (isDigit(c, base)) {
      digits += c;
      i++;
    } else if (c === '_') {
      // An underscore separates digits: never last, never doubled, and first only after a 0x/0o/0b prefix.
      if (!underscoreFirst && i === at) return undefined;
      if (!isDigit(text.charAt(i + 1), base)) return undefined;
      i++;
    } else {
      return { digits, end: i };
    }
  }
}

function isDigit(c: string, base: 2 | 8 | 10 | 16): boolean {
  if (c === '') return false;
  if (base === 16) return /^[0-9a-fA-F]$/.test(c);
  const code = c.charCodeAt(0) - 48;
  return code >= 0 && code < base;
}

const PREFIX_BASES: Readonly<Record<string, 2 | 8 | 16>> = { x: 16, X: 16, o: 8, O: 8, b: 2, B: 2 };

/** A whole number in PostgreSQL 16+ integer syntax (sign, 0x/0o/0b, underscores), or undefined. */
function readInteger(trimmed: string): bigint | undefined {
  let at = 0;
  let negative = false;
  if (trimmed[0] === '-' || trimmed[0] === '+') {
    negative = trimmed[0] === '-';
    at = 1;
  }
  let base: 2 | 8 | 10 | 16 = 10;
  const prefixBase = trimmed[at] === '0' ? PREFIX_BASES[trimmed[at + 1] ?? ''] : undefined;
  if (prefixBase) {
    base = prefixBase;
    at += 2;
  }
  const read = readDigits(trimmed, at, base, base !== 10);
  if (!read || read.digits === '' || read.end !== trimmed.length) return undefined;
  const prefix = base === 16 ? '0x' : base === 8 ? '0o' : base === 2 ? '0b' : '';
  const magnitude = BigInt(prefix + read.digits);
  return negative ? -magnitude : magnitude;
}

/** Orders canonical integer texts (`-12`, `0`, `345`) without parsing them. */
export function compareIntegerTexts(a: string, b: string): number {
  if (a === b) return 0;
  const aNegative = a.charCodeAt(0) === 45;
  const bNegative = b.charCodeAt(0) === 45;
  if (aNegative !== bNegative) return aNegative ? -1 : 1;
  const magnitude = a.length !== b.length ? a.length - b.length : a < b ? -1 : 1;
  return aNegative ? -magnitude : magnitude;
}

function integerDomain(sqlName: string, bits: 16 | 32 | 64): ValueDomain<string> {
  const max = (1n << BigInt(bits - 1)) - 1n;
  const min = -max - 1n;
  return {
    sqlName,
    parse(input) {
      const value = readInteger(trimCSpace(input));
      if (value === undefined) return invalidSyntax(sqlName, input);
      if (value > max || value < min) return new ValueRejected(`value "${input}" is out of range for type ${sqlName}`);
      return value.toString();
    },
    // int2out/int4out/int8out print the canonical decimal, so the text is the key.
    read: (text) => text,
    compare: compareIntegerTexts,
  };
}

export const int2Domain = integerDomain('smallint', 16);
export const int4Domain = integerDomain('integer', 32);
export const int8Domain = integerDomain('bigint', 64);

/**
 * An exact decimal: value = sign × 0.digits × 10^point, digits without leading or trailing zeros
 * (empty for zero). `rank` orders the specials around the finite values as numeric does:
 * -Infinity < finite < Infinity < NaN.
 */
export interface Decimal {
  rank: -1 | 0 | 1 | 2;
  sign: -1 | 0 | 1;
  digits: string;
  point: number;
  /** The same value as a JS number when it is a safe integer: a fast path for comparisons. */
  exact?: number;
}

const NEGATIVE_INFINITY: Decimal = { rank: -1, sign: -1, digits: '', point: 0 };
const POSITIVE_INFINITY: Decimal = { rank: 1, sign: 1, digits: '', point: 0 };
const NOT_A_NUMBER: Decimal = { rank: 2, sign: 0, digits: '', point: 0 };

function decimalOf(negative: boolean, whole: string, fraction: string, exponent: number): Decimal {
  let digits = whole + fraction;
  let point = whole.length + exponent;
  let start = 0;
  while (start < digits.length && digits.charCodeAt(start) === 48) start++;
  let end = digits.length;
  while (end > start && digits.charCodeAt(end - 1) === 48) end--;
  point -= start;
  digits = digits.slice(start, end);
  if (digits === '') return { rank: 0, sign: 0, digits: '', point: 0 };
  return { rank: 0, sign: negative ? -1 : 1, digits, point };
}

/** Negative, zero or positive as numeric orders `a` and `b` (-Infinity < finite < Infinity < NaN, NaN = NaN). */
export function compareDecimals(a: Decimal, b: Decimal): number {
  if (a.exact !== undefined && b.exact !== undefined) return a.exact < b.exact ? -1 : a.exact > b.exact ? 1 : 0;
  if (a.rank !== b.rank) return a.rank - b.rank;
  if (a.rank !== 0 || a.sign !== b.sign) return a.sign - b.sign;
  if (a.sign === 0) return 0;
  let magnitude: number;
  if (a.point !== b.point) magnitude = a.point - b.point;
  else magnitude = a.digits === b.digits ? 0 : a.digits < b.digits ? -1 : 1;
  return a.sign * magnitude;
}

/** The largest numbers numeric stores: 131072 digits before the point, 16383 after. */
const NUMERIC_MAX_WHOLE_DIGITS = 131072;
const NUMERIC_MAX_FRACTION_DIGITS = 16383;

/** numeric_in: a Decimal, the error it raises, or NEEDS_SQL beyond what is read exactly here. */
export function parseNumeric(input: string): Decimal | ValueRejected | typeof NEEDS_SQL {
  const trimmed = trimCSpace(input);
  let at = 0;
  let negative = false;
  if (trimmed[0] === '-' || trimmed[0] === '+') {
    negative = trimmed[0] === '-';
    at = 1;
  }
  const body = trimmed.slice(at);
  if (!/^[0-9.]/.test(body)) {
    // NaN takes no sign; Infinity and inf take one.
    if (/^nan$/i.test(trimmed)) return NOT_A_NUMBER;
    if (/^(infinity|inf)$/i.test(body)) return negative ? NEGATIVE_INFINITY : POSITIVE_INFINITY;
    return invalidSyntax('numeric', input);
  }
  if (body[0] === '0' && PREFIX_BASES[body[1] ?? '']) {
    const value = readInteger(trimmed);
    if (value === undefined) return invalidSyntax('numeric', input);
    const text = (value < 0n ? -value : value).toString();
    return decimalOf(value < 0n, text, '', 0);
  }
  const whole = readDigits(body, 0, 10, false);
  if (!whole) return invalidSyntax('numeric', input);
  let end = whole.end;
  let fraction = '';
  if (body[end] === '.') {
    const read = readDigits(body, end + 1, 10, false);
    if (!read) return invalidSyntax('numeric', input);
    fraction = read.digits;
    end = read.end;
  }
  if (whole.digits === '' && fraction === '') return invalidSyntax('numeric', input);
  let exponent = 0;
  if (body[end] === 'e' || body[end] === 'E') {
    let expAt = end + 1;
    const expNegative = body[expAt] === '-';
    if (body[expAt] === '-' || body[expAt] === '+') expAt++;
    const read = readDigits(body, expAt, 10, false);
    if (!read || read.digits === '') return invalidSyntax('numeric', input);
    // Beyond what numeric can hold PostgreSQL decides the error; stay exact below that.
    if (read.digits.length > 7) return NEEDS_SQL;
    exponent = (expNegative ? -1 : 1) * Number(read.digits);
    end = read.end;
  }
  if (end !== body.length) return invalidSyntax('numeric', input);
  const value = decimalOf(negative, whole.digits, fraction, exponent);
  if (value.point > NUMERIC_MAX_WHOLE_DIGITS || value.digits.length - value.point > NUMERIC_MAX_FRACTION_DIGITS) return NEEDS_SQL;
  return value;
}

/** numeric_out text: `-12.50`, `0`, `NaN`, `Infinity`, `-Infinity`. */
export function readNumericText(text: string): Decimal {
  if (text === 'NaN') return NOT_A_NUMBER;
  if (text === 'Infinity') return POSITIVE_INFINITY;
  if (text === '-Infinity') return NEGATIVE_INFINITY;
  const negative = text.charCodeAt(0) === 45;
  const dot = text.indexOf('.');
  const whole = text.slice(negative ? 1 : 0, dot === -1 ? text.length : dot);
  return decimalOf(negative, whole, dot === -1 ? '' : text.slice(dot + 1), 0);
}

export const numericDomain: ValueDomain<Decimal> = {
  sqlName: 'numeric',
  parse: parseNumeric,
  read: readNumericText,
  compare: compareDecimals,
};

/** True when the decimal is a finite whole number. */
export function isWholeDecimal(value: Decimal): boolean {
  return value.rank === 0 && value.digits.length <= value.point;
}

/** Decimals of JS numbers, memoized: rows compare the same values again and again while sorting. */
const numberCache = new Map<number, Decimal | undefined>();
const NUMBER_CACHE_LIMIT = 100_000;

function numberDecimal(value: number): Decimal | undefined {
  let decimal = numberCache.get(value);
  if (decimal === undefined && !numberCache.has(value)) {
    // String(n) is the shortest text that reads back as n (`1e+21`, `1.5e-7`): valid numeric input.
    const parsed = parseNumeric(String(value));
    decimal = parsed === NEEDS_SQL || parsed instanceof ValueRejected ? undefined : parsed;
    // A literal, not a spread: V8 gives every object built by spreading its own hidden class (18 MB per 86k values).
    if (decimal && Number.isSafeInteger(value)) decimal = { rank: decimal.rank, sign: decimal.sign, digits: decimal.digits, point: decimal.point, exact: value };
    if (numberCache.size >= NUMBER_CACHE_LIMIT) numberCache.clear();
    numberCache.set(value, decimal);
  }
  return decimal;
}

/** A JSON value (a number, or numeric's text as PostgREST or a caller may give it) as a Decimal. */
export function decimalOfJson(value: unknown): Decimal | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? numberDecimal(value) : undefined;
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'bigint') text = value.toString();
  else return undefined;
  const parsed = parseNumeric(text);
  return parsed === NEEDS_SQL || parsed instanceof ValueRejected ? undefined : parsed;
}
