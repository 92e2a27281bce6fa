/**
 * Which column types filters compare in memory, and how: numbers and dates (lib/protocol), bool,
 * uuid and the string types. Types missing here (jsonb, arrays, ranges, enums, interval, name,
 * citext, time ...) are compared by PostgreSQL, never approximated.
 */
import { dateDomain, timestampDomain, timestamptzDomain } from '../../../protocol/pgDateTime.js';
import { float4Domain, float8Domain } from '../../../protocol/pgFloat.js';
import { int2Domain, int4Domain, int8Domain, numericDomain } from '../../../protocol/pgNumeric.js';
import { invalidSyntax, trimCSpace, ValueRejected, type ValueDomain } from '../../../protocol/pgValueDomain.js';

/** boolin: t/true/y/yes/on/1 and f/false/n/no/off/0, any case, any unambiguous prefix of the words. */
function parseBool(input: string): boolean | ValueRejected {
  const value = trimCSpace(input).toLowerCase();
  const prefixOf = (word: string, minimum = 1) => value.length >= minimum && word.startsWith(value);
  if (value === '1' || prefixOf('true') || prefixOf('yes') || value === 'on') return true;
  if (value === '0' || prefixOf('false') || prefixOf('no') || prefixOf('off', 2)) return false;
  return invalidSyntax('boolean', input);
}

const boolDomain: ValueDomain<boolean> = {
  sqlName: 'boolean',
  parse: parseBool,
  read: (text) => text === 't',
  compare: (a, b) => Number(a) - Number(b),
};

/** uuid_in: 32 hex digits, any case, optionally in braces, a hyphen allowed after any group of four. */
function parseUuid(input: string): string | ValueRejected {
  let at = 0;
  const braces = input[0] === '{';
  if (braces) at = 1;
  let hex = '';
  for (let byte = 0; byte < 16; byte++) {
    const pair = input.slice(at, at + 2);
    if (!/^[0-9a-fA-F]{2}$/.test(pair)) return invalidSyntax('uuid', input);
    hex += pair;
    at += 2;
    if (input[at] === '-' && byte % 2 === 1 && byte < 15) at++;
  }
  if (braces && input[at++] !== '}') return invalidSyntax('uuid', input);
  if (at !== input.length) return invalidSyntax('uuid', input);
  hex = hex.toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const uuidDomain: ValueDomain<string> = {
  sqlName: 'uuid',
  parse: parseUuid,
  // uuid_out prints lowercase with hyphens, which orders like the bytes.
  read: (text) => text,
  compare: (a, b) => (a === b ? 0 : a < b ? -1 : 1),
};

/** Orders strings by code point, as the C and C.UTF-8 collations (UTF-8 byte order) do. */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // UTF-16 puts surrogates (code points above U+FFFF) below U+E000..U+FFFF; code point order does not.
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** What a UTF-8 database can store: no NUL, no lone surrogate (it would reach PostgreSQL as U+FFFD). */
function parseText(input: string): string | ValueRejected {
  if (input.includes('\u0000')) return new ValueRejected('invalid byte sequence for encoding "UTF8": 0x00');
  if (LONE_SURROGATE.test(input)) return new ValueRejected('invalid Unicode: the value holds a lone UTF-16 surrogate');
  return input;
}

const textDomain: ValueDomain<string> = {
  sqlName: 'text',
  parse: parseText,
  read: (text) => text,
  compare: compareCodePoints,
};

/** character(n): trailing spaces are not significant in comparisons. */
const stripTrailingSpaces = (text: string) => {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 32) end--;
  return end === text.length ? text : text.slice(0, end);
};

const bpcharDomain: ValueDomain<string> = {
  sqlName: 'character',
  parse: (input) => {
    const parsed = parseText(input);
    return parsed instanceof ValueRejected ? parsed : stripTrailingSpaces(parsed);
  },
  read: stripTrailingSpaces,
  compare: compareCodePoints,
};

export interface DomainChoice {
  domain: ValueDomain<unknown>;
  /** Ordered by collation: lt/lte/gt/gte need code point order to be evaluated here. */
  collated: boolean;
}

/** How to compare values of `typname` here, or undefined when only PostgreSQL can. */
export function domainFor(typname: string, timeZone: string | undefined): DomainChoice | undefined {
  const plain = (domain: ValueDomain<unknown>): DomainChoice => ({ domain, collated: false });
  switch (typname) {
    case 'int2': return plain(int2Domain);
    case 'int4': return plain(int4Domain);
    case 'int8': return plain(int8Domain);
    case 'numeric': return plain(numericDomain);
    case 'float4': return plain(float4Domain);
    case 'float8': return plain(float8Domain);
    case 'bool': return plain(boolDomain);
    case 'uuid': return plain(uuidDomain);
    case 'date': return plain(dateDomain);
    case 'timestamp': return plain(timestampDomain);
    case 'timestamptz': return plain(timestamptzDomain(timeZone));
    case 'text':
    case 'varchar':
      return { domain: textDomain, collated: true };
    case 'bpchar':
      return { domain: bpcharDomain, collated: true };
    default:
      return undefined;
  }
}
