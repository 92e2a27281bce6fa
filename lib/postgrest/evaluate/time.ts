/**
 * Instants and calendar values from ISO text (PostgREST's output and ISO literals), as comparable
 * keys. Only ISO 8601 / PostgreSQL ISO forms are read; anything else is left to the database.
 */

/** A point in time as [whole seconds since 1970-01-01 (may be huge), microseconds 0–999999]; ±Infinity for infinity. */
export type TimeKey = readonly [number, number];

const DATE = /^(\d{4,})-(\d{2})-(\d{2})( BC)?$/;
const DATE_TIME =
  /^(\d{4,})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?\s*(Z|z|[+-]\d{2}(?::?\d{2}(?::?\d{2})?)?)?( BC)?$/;

/** Days since 1970-01-01 of a proleptic Gregorian date (astronomical year numbering), as PostgreSQL counts them. */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function validDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  return day <= lengths[month - 1]!;
}

function special(text: string): TimeKey | undefined {
  const word = text.trim().toLowerCase();
  if (word === 'infinity' || word === '+infinity') return [Infinity, 0];
  if (word === '-infinity') return [-Infinity, 0];
  return undefined;
}

/** Day number of an ISO date (`2026-11-24`, `0044-03-15 BC`); undefined otherwise. */
export function readDate(text: string): TimeKey | undefined {
  const infinite = special(text);
  if (infinite) return infinite;
  const match = DATE.exec(text.trim());
  if (!match) return undefined;
  let year = Number(match[1]);
  if (match[4]) year = 1 - year;
  const month = Number(match[2]);
  const day = Number(match[3]);
  if (!validDate(year, month, day)) return undefined;
  return [daysFromCivil(year, month, day), 0];
}

export interface ReadTimestamp {
  key: TimeKey;
  /** Whether the text named an offset (a timestamptz literal without one depends on the session zone). */
  hasOffset: boolean;
}

/**
 * An ISO timestamp. `ignoreOffset` reads wall-clock time as PostgreSQL does for `timestamp` (which
 * drops a given offset); otherwise the offset (or UTC when absent) is applied. Fractions beyond
 * microseconds are rounded as PostgreSQL rounds them: `rint(double(fraction) * 1e6)`, so halves go
 * to even (`.1234565` → `.123456`, `.1234575` → `.123458`).
 */
export function readTimestamp(text: string, ignoreOffset: boolean): ReadTimestamp | undefined {
  const infinite = special(text);
  if (infinite) return { key: infinite, hasOffset: true };
  const trimmed = text.trim();
  const dateOnly = DATE.exec(trimmed);
  if (dateOnly) {
    const day = readDate(trimmed);
    return day && { key: [day[0] * 86400, 0], hasOffset: false };
  }
  const match = DATE_TIME.exec(trimmed);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s = '0', fraction = '', zone, bc] = match as unknown as string[];
  let year = Number(y);
  if (bc) year = 1 - year;
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (!validDate(year, month, day) || hour > 24 || minute > 59 || second > 60) return undefined;
  if (hour === 24 && (minute !== 0 || second !== 0 || /[1-9]/.test(fraction))) return undefined;
  let micros = fraction.length <= 6 ? Number(fraction.padEnd(6, '0')) : rint(Number(`0.${fraction}`) * 1e6);
  let seconds = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
  if (!ignoreOffset && zone !== undefined && zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const parts = zone.slice(1).replace(/:/g, '');
    const offset = Number(parts.slice(0, 2)) * 3600 + Number(parts.slice(2, 4) || '0') * 60 + Number(parts.slice(4, 6) || '0');
    seconds -= sign * offset;
  }
  if (micros >= 1_000_000) {
    seconds += 1;
    micros -= 1_000_000;
  }
  return { key: [seconds, micros], hasOffset: zone !== undefined };
}

/** C's rint: the nearest integer, halves to even. */
function rint(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff < 0.5) return floor;
  if (diff > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** Sign of `a - b`. */
export function compareTime(a: TimeKey, b: TimeKey): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  return a[1] - b[1];
}
