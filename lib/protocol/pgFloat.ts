/**
 * Values of real and double precision columns, read and ordered as PostgreSQL does: IEEE floats
 * with PostgreSQL's NaN rules (NaN equals NaN and sorts above every other value, -0 equals 0).
 */
import { invalidSyntax, NEEDS_SQL, trimCSpace, ValueRejected, type ValueDomain } from './pgValueDomain.js';

const DECIMAL_FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const SPECIAL_FLOAT = /^([+-]?)(inf|infinity|nan)$/i;

/** float8in / float4in: strtod syntax; results that overflow or underflow to zero are errors. */
function parseFloat(input: string, sqlName: string, single: boolean): number | ValueRejected | typeof NEEDS_SQL {
  const trimmed = trimCSpace(input);
  const special = SPECIAL_FLOAT.exec(trimmed);
  if (special) {
    if (special[2]!.toLowerCase() === 'nan') return NaN;
    return special[1] === '-' ? -Infinity : Infinity;
  }
  if (!DECIMAL_FLOAT.test(trimmed)) {
    // strtod also reads hex floats (0x1p3) and nan(...): let PostgreSQL read those.
    if (/^[+-]?(0[xX]|nan\()/i.test(trimmed)) return NEEDS_SQL;
    return invalidSyntax(sqlName, input);
  }
  const double = Number(trimmed);
  const value = single ? Math.fround(double) : double;
  if (single && value !== double && isFloat32Midpoint(double, value)) {
    // Decimal → double → float can round differently from strtof's single rounding at a tie.
    return NEEDS_SQL;
  }
  const nonZero = /[1-9]/.test(trimmed.replace(/[eE].*$/, ''));
  if (!Number.isFinite(value) || (value === 0 && nonZero)) return new ValueRejected(`"${input}" is out of range for type ${sqlName}`);
  return value;
}

const float32 = new Float32Array(1);
const float32Bits = new Uint32Array(float32.buffer);

/** Whether `double` lies exactly halfway between `rounded` (its float32 rounding) and the next float32. */
function isFloat32Midpoint(double: number, rounded: number): boolean {
  if (!Number.isFinite(rounded)) return false;
  float32[0] = rounded;
  const towardZero = Math.abs(double) < Math.abs(rounded);
  float32Bits[0] = towardZero ? float32Bits[0]! - 1 : float32Bits[0]! + 1;
  if (rounded === 0) float32[0] = double < 0 ? -1.401298464324817e-45 : 1.401298464324817e-45;
  const neighbour = float32[0]!;
  return (rounded + neighbour) / 2 === double;
}

/** float8 ordering: NaN equals NaN and sorts above everything; -0 equals 0. */
export function compareFloats(a: number, b: number): number {
  if (a !== a) return b !== b ? 0 : 1;
  if (b !== b) return -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export const float8Domain: ValueDomain<number> = {
  sqlName: 'double precision',
  parse: (input) => parseFloat(input, 'double precision', false),
  // float8out prints the shortest text that reads back as the same double (NaN, Infinity, -Infinity included).
  read: Number,
  compare: compareFloats,
};

export const float4Domain: ValueDomain<number> = {
  sqlName: 'real',
  parse: (input) => parseFloat(input, 'real', true),
  read: (text) => Math.fround(Number(text)),
  compare: compareFloats,
};
