/**
 * Browser-safe facts the client and the server share: PostgreSQL's value semantics (how input text
 * reads, how output text reads, how values order), implemented once.
 */
export { readArrayLiteral, TOO_MANY_ELEMENTS } from './pgArrayLiteral.js';
export type { ArrayElement, ArrayLiteralOptions } from './pgArrayLiteral.js';
export { compareInstants, dateDomain, timestampDomain, timestamptzDomain } from './pgDateTime.js';
export type { Instant } from './pgDateTime.js';
export { compareFloats, float4Domain, float8Domain } from './pgFloat.js';
export { compareDecimals, compareIntegerTexts, decimalOfJson, int2Domain, int4Domain, int8Domain, isWholeDecimal, numericDomain, parseNumeric, readNumericText } from './pgNumeric.js';
export type { Decimal } from './pgNumeric.js';
export { invalidSyntax, isCSpace, NEEDS_SQL, trimCSpace, ValueRejected } from './pgValueDomain.js';
export type { ValueDomain } from './pgValueDomain.js';
