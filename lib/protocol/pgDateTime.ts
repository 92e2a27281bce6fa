/**
 * Values of date, timestamp and timestamptz columns, compared as days or instants. Output text is
 * read in ISO style (DateStyle ISO, which the replication connection must use). Input is read
 * exactly only in ISO 8601 form (`2026-01-01`, `2026-01-01T10:00:00.5+05:30`, ` BC`, infinity,
 * epoch), which covers PostgREST's JSON output too; PostgreSQL's many other forms ('now',
 * 'Jan 1 2026', zone names ...) are NEEDS_SQL.
 */
import { NEEDS_SQL, trimCSpace, ValueRejected, type ValueDomain } from './pgValueDomain.js';

/** An instant (or a wall-clock time for timestamp) as whole seconds since 1970 plus microseconds. */
export type Instant = readonly [seconds: number, micros: number];

const SECONDS_PER_DAY = 86400;

/** Days since 1970-01-01 of a proleptic Gregorian date (astronomical year numbering), as PostgreSQL counts them. */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function digitsAt(text: string, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) value = value * 10 + text.charCodeAt(i) - 48;
  return value;
}

/** `YYYY-MM-DD` (year of 4+ digits) at the start of ISO output, and where it ends. */
function readIsoDay(text: string, bc: boolean): { day: number; end: number } {
  const dash = text.indexOf('-', 4);
  const year = digitsAt(text, 0, dash);
  const day = daysFromCivil(bc ? 1 - year : year, digitsAt(text, dash + 1, 2), digitsAt(text, dash + 4, 2));
  return { day, end: dash + 6 };
}

/** date_out text: `2026-11-24`, `0044-03-15 BC`, `infinity`, `-infinity`. */
function readDateText(text: string): number {
  if (text === 'infinity') return Infinity;
  if (text === '-infinity') return -Infinity;
  return readIsoDay(text, text.endsWith(' BC')).day;
}

/** timestamp_out / timestamptz_out text in ISO style: `2026-11-24 10:00:00.5+05:30`, ` BC`, infinities. */
function readTimestampText(text: string): Instant {
  if (text === 'infinity') return [Infinity, 0];
  if (text === '-infinity') return [-Infinity, 0];
  const bc = text.endsWith(' BC');
  const { day, end } = readIsoDay(text, bc);
  const time = end + 1; // past the space
  let seconds = day * SECONDS_PER_DAY + digitsAt(text, time, 2) * 3600 + digitsAt(text, time + 3, 2) * 60 + digitsAt(text, time + 6, 2);
  let at = time + 8;
  let micros = 0;
  if (text.charCodeAt(at) === 46 /* . */) {
    let scale = 100000;
    for (at++; text.charCodeAt(at) >= 48 && text.charCodeAt(at) <= 57; at++, scale /= 10) micros += (text.charCodeAt(at) - 48) * scale;
  }
  const sign = text.charCodeAt(at);
  if (sign === 43 || sign === 45) {
    let offset = digitsAt(text, at + 1, 2) * 3600;
    if (text.charCodeAt(at + 3) === 58) offset += digitsAt(text, at + 4, 2) * 60;
    if (text.charCodeAt(at + 6) === 58) offset += digitsAt(text, at + 7, 2);
    seconds -= sign === 43 ? offset : -offset;
  }
  return [seconds, micros];
}

export function compareInstants(a: Instant, b: Instant): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  return a[1] - b[1];
}

const ISO_DATE_TIME =
  /^(\d{4,})-(\d\d)-(\d\d)(?:T(\d\d):(\d\d)(?::(\d\d)(?:\.(\d+))?)?| +(\d\d):(\d\d)(?::(\d\d)(?:\.(\d+))?)?)?(?: *(?:(Z)|([+-])(\d\d)(?::(\d\d)(?::(\d\d))?|(\d\d))?))?( +BC)?$/i; // T, Z and BC in any case, as PostgreSQL reads them

/** TimeZone settings that mean UTC, where a zone-less timestamptz value can be read without tz rules. */
const UTC_ZONES = /^(etc\/)?(utc|uct|gmt|gmt0|universal|zulu|greenwich)$/i;

/** Beyond this year timestamps end (294276 AD): PostgreSQL decides there. */
const LAST_EXACT_YEAR = 294275;

/** An ISO date-time input, its parts as PostgreSQL's date/time input reads them. */
interface ParsedDateTime {
  /** Days since 1970-01-01. */
  day: number;
  /** Seconds since midnight; up to a day and a second (24:00:00, leap second 60 and a rounded fraction roll over). */
  seconds: number;
  micros: number;
  /** Seconds east of UTC; undefined when the value names no zone. */
  offset: number | undefined;
  hasTime: boolean;
}

function rejectedRange(input: string): ValueRejected {
  return new ValueRejected(`date/time field value out of range: "${input}"`);
}

/** C's rint: the nearest integer, halves to even. */
function rint(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff < 0.5) return floor;
  if (diff > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * Microseconds of a fraction's digits as PostgreSQL reads them, `rint(double(0.digits) * 1e6)`: halves
 * go to even (`.1234565` → 123456, `.1234575` → 123458), and `.9999995` rounds up to a whole second.
 */
function fractionMicros(digits: string): number {
  return digits.length <= 6 ? Number(digits.padEnd(6, '0')) : rint(Number(`0.${digits}`) * 1e6);
}

/** An ISO 8601 date or date-time input; NEEDS_SQL for every other form PostgreSQL may accept. */
function parseIsoDateTime(input: string): ParsedDateTime | ValueRejected | typeof NEEDS_SQL {
  const m = ISO_DATE_TIME.exec(trimCSpace(input));
  if (!m) return NEEDS_SQL;
  const yearText = Number(m[1]);
  const bc = m[18] !== undefined;
  if (yearText === 0) return bc ? NEEDS_SQL : rejectedRange(input);
  if (bc && yearText > 4713) return NEEDS_SQL; // near PostgreSQL's lower bounds: let it decide
  if (yearText > LAST_EXACT_YEAR) return NEEDS_SQL; // likewise near the upper bounds
  const year = bc ? 1 - yearText : yearText;
  const month = Number(m[2]);
  const dayOfMonth = Number(m[3]);
  if (month < 1 || month > 12 || dayOfMonth < 1 || dayOfMonth > daysInMonth(year, month)) return rejectedRange(input);
  const hour = Number(m[4] ?? m[8] ?? 0);
  const minute = Number(m[5] ?? m[9] ?? 0);
  const second = Number(m[6] ?? m[10] ?? 0);
  const micros = fractionMicros(m[7] ?? m[11] ?? '');
  // 24:00:00 and a leap second 60 are read and roll over into the next day or minute, as in PostgreSQL.
  if (hour > 24 || minute > 59 || second > 60) return rejectedRange(input);
  if (hour === 24 && (minute > 0 || second > 0 || micros > 0)) return rejectedRange(input);
  const hasTime = m[4] !== undefined || m[8] !== undefined;
  // A zone right after the date reads as more date fields when its sign is '-': leave those to PostgreSQL.
  if (!hasTime && (m[12] || m[13])) return NEEDS_SQL;
  let offset: number | undefined;
  if (m[12]) offset = 0;
  else if (m[13]) {
    const offsetHours = Number(m[14]);
    const offsetMinutes = Number(m[15] ?? m[17] ?? 0);
    const offsetSeconds = Number(m[16] ?? 0);
    if (offsetHours > 15 || offsetMinutes > 59 || offsetSeconds > 59) return NEEDS_SQL;
    offset = (m[13] === '-' ? -1 : 1) * (offsetHours * 3600 + offsetMinutes * 60 + offsetSeconds);
  }
  return {
    day: daysFromCivil(year, month, dayOfMonth),
    // A fraction that rounds up to a whole second carries into the seconds.
    seconds: hour * 3600 + minute * 60 + second + (micros === 1_000_000 ? 1 : 0),
    micros: micros === 1_000_000 ? 0 : micros,
    offset,
    hasTime,
  };
}

/** The special inputs every date/time type reads the same way (as days; epoch is day 0). */
function specialDay(input: string): number | undefined {
  switch (trimCSpace(input).toLowerCase()) {
    case 'infinity':
    case '+infinity':
      return Infinity;
    case '-infinity':
      return -Infinity;
    case 'epoch':
      return 0;
    default:
      return undefined;
  }
}

export const dateDomain: ValueDomain<number> = {
  sqlName: 'date',
  parse(input) {
    const special = specialDay(input);
    if (special !== undefined) return special;
    const parsed = parseIsoDateTime(input);
    if (parsed === NEEDS_SQL || parsed instanceof ValueRejected) return parsed;
    // date_in reads a time and zone after the date, and ignores them.
    return parsed.day;
  },
  read: readDateText,
  compare: (a, b) => (a === b ? 0 : a < b ? -1 : 1),
};

function instantOf(day: number): Instant {
  return Number.isFinite(day) ? [day * SECONDS_PER_DAY, 0] : [day, 0];
}

/** timestamp reads a zone in its input and ignores it: the wall-clock time is the value. */
export const timestampDomain: ValueDomain<Instant> = {
  sqlName: 'timestamp without time zone',
  parse(input) {
    const special = specialDay(input);
    if (special !== undefined) return instantOf(special);
    const parsed = parseIsoDateTime(input);
    if (parsed === NEEDS_SQL || parsed instanceof ValueRejected) return parsed;
    return [parsed.day * SECONDS_PER_DAY + parsed.seconds, parsed.micros];
  },
  read: readTimestampText,
  compare: compareInstants,
};

/** timestamptz: a zone-less value means the session TimeZone; read here only when that is UTC. */
export function timestamptzDomain(timeZone: string | undefined): ValueDomain<Instant> {
  const sessionIsUtc = timeZone !== undefined && UTC_ZONES.test(timeZone.trim());
  return {
    sqlName: 'timestamp with time zone',
    parse(input) {
      const special = specialDay(input);
      if (special !== undefined) return instantOf(special);
      const parsed = parseIsoDateTime(input);
      if (parsed === NEEDS_SQL || parsed instanceof ValueRejected) return parsed;
      const offset = parsed.offset ?? (sessionIsUtc ? 0 : undefined);
      if (offset === undefined) return NEEDS_SQL;
      return [parsed.day * SECONDS_PER_DAY + parsed.seconds - offset, parsed.micros];
    },
    read: readTimestampText,
    compare: compareInstants,
  };
}
