/**
 * Stream positions and the bounded in-memory log of recent changes that lets a client resume after
 * a disconnect instead of refetching. Pure: no I/O, no timers.
 *
 * ## StreamPosition
 * `"<LSN: 16 upper-case hex digits>:<index in transaction: 8 upper-case hex digits>"`, e.g. the
 * third change of the transaction committed at `16/B374D848` is `00000016B374D848:00000002`.
 * - The LSN is the transaction's commit LSN (pgoutput Begin `final_lsn` = Commit `commit_lsn`); the
 *   index counts the changes within it from 0. pgoutput sends transactions in commit order, so
 *   positions increase with the stream, and being read from the WAL they survive server restarts.
 * - Fixed width and one letter case, so comparing two positions as strings is comparing them as
 *   numbers; only that canonical spelling is accepted (anything else is "malformed").
 *
 * ## Resume boundary
 * `since(p)` returns the entries strictly after `p`, provided the log holds all of them. After the
 * log evicts an entry, it remembers that entry's position (`resumableFrom`): a client that saw
 * exactly that entry has missed nothing still needed, so it can resume; one that saw anything older
 * cannot. A position beyond the newest one the log knows is `unknown_future` (another database,
 * a reset one, or a forged value): the client must resync too.
 */

/** A position in the change stream; see the module comment for the format. */
export type StreamPosition = string & { readonly __brand: 'StreamPosition' };

export interface ParsedPosition {
  lsn: bigint;
  seq: number;
}

export type ResumeLogErrorCode =
  | 'RESUME_BAD_OPTION'
  | 'RESUME_BAD_LSN'
  | 'RESUME_BAD_POSITION'
  | 'RESUME_POSITION_NOT_INCREASING'
  | 'RESUME_BAD_ENTRY_SIZE';

/** Why a position could not be made or an entry not appended, with a stable `code`. */
export class ResumeLogError extends Error {
  override readonly name = 'ResumeLogError';
  constructor(
    readonly code: ResumeLogErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const POSITION_PATTERN = /^[0-9A-F]{16}:[0-9A-F]{8}$/;
const POSITION_LENGTH = 25;
const LSN_PATTERN = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;
const MAX_LSN = (1n << 64n) - 1n;
const MAX_SEQ = 0xffffffff;

/** True when `value` is a StreamPosition in its canonical spelling. */
export function isStreamPosition(value: unknown): value is StreamPosition {
  return typeof value === 'string' && value.length === POSITION_LENGTH && POSITION_PATTERN.test(value);
}

/** Parses a position; null when `value` is not one (wrong type, case, width or characters). */
export function parsePosition(value: unknown): ParsedPosition | null {
  if (!isStreamPosition(value)) return null;
  return { lsn: BigInt(`0x${value.slice(0, 16)}`), seq: Number.parseInt(value.slice(17), 16) };
}

/** Orders two positions: negative, zero or positive like a sort comparator (-1, 0, 1). */
export function comparePositions(a: StreamPosition, b: StreamPosition): -1 | 0 | 1 {
  if (!isStreamPosition(a) || !isStreamPosition(b)) {
    throw new ResumeLogError('RESUME_BAD_POSITION', `comparePositions: not a stream position: ${describe(isStreamPosition(a) ? b : a)}`);
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Parses a PostgreSQL LSN as pg prints it (`16/B374D848`) into its 64-bit value. */
export function parseLsn(text: string): bigint {
  const match = typeof text === 'string' ? LSN_PATTERN.exec(text) : null;
  if (!match) throw new ResumeLogError('RESUME_BAD_LSN', `not a PostgreSQL LSN (like 16/B374D848): ${describe(text)}`);
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

/** The position of change number `seq` (from 0) of the transaction committed at `lsn`. */
export function formatPosition(lsn: bigint | string, seq: number): StreamPosition {
  const value = typeof lsn === 'bigint' ? lsn : parseLsn(lsn);
  if (value < 0n || value > MAX_LSN) throw new ResumeLogError('RESUME_BAD_LSN', `LSN out of the 64-bit range: ${value}`);
  if (!Number.isInteger(seq) || seq < 0 || seq > MAX_SEQ) {
    throw new ResumeLogError('RESUME_BAD_POSITION', `seq must be an integer from 0 to ${MAX_SEQ}, got ${describe(seq)}`);
  }
  const hex = `${value.toString(16).toUpperCase().padStart(16, '0')}:${seq.toString(16).toUpperCase().padStart(8, '0')}`;
  return hex as StreamPosition;
}

export type ResumeResult<E> =
  | { ok: true; entries: E[] }
  | { ok: false; reason: 'too_old' | 'unknown_future' | 'malformed' };

export interface ResumeLogOptions<E> {
  /** Entries kept at most (integer >= 1). */
  maxEntries: number;
  /** Approximate budget for the entries, as measured by `sizeOf`; oldest entries go first. */
  maxBytes?: number;
  /**
   * An entry's size for `maxBytes`. Default: the length of its JSON text. Pass the encoded
   * payload's length when you have it, to spare a second serialization.
   */
  sizeOf?: (entry: E) => number;
  /** The log is complete after this position (e.g. where replication started). Default: nothing known before the first append. */
  start?: StreamPosition;
}

export interface ResumeLog<E> {
  /** Appends the entry at `position`, which must be beyond every position the log has seen. O(1) amortized. */
  append(position: StreamPosition, entry: E): void;
  /** The entries strictly after `position`, in order, if the log still holds all of them. O(log n + k). */
  since(position: unknown): ResumeResult<E>;
  /** Forgets every entry (e.g. replication restarted with a gap); the log is complete after `start`, if given. */
  reset(start?: StreamPosition): void;
  /** The oldest position `since` accepts, if any. */
  readonly resumableFrom: StreamPosition | undefined;
  /** The newest position the log knows (last append, or the start/eviction boundary when empty). */
  readonly newest: StreamPosition | undefined;
  /** Entries held. */
  readonly size: number;
  /** Sum of the held entries' sizes (0 without `maxBytes`). */
  readonly bytes: number;
}

const INITIAL_CAPACITY = 64;

/** Creates an empty log; see the module comment for the boundary rules. */
export function createResumeLog<E>(options: ResumeLogOptions<E>): ResumeLog<E> {
  if (typeof options !== 'object' || options === null) throw new ResumeLogError('RESUME_BAD_OPTION', 'options must be an object');
  const { maxEntries, maxBytes, sizeOf = jsonLength } = options;
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
    throw new ResumeLogError('RESUME_BAD_OPTION', `maxEntries must be an integer >= 1, got ${describe(maxEntries)}`);
  }
  if (maxBytes !== undefined && !(typeof maxBytes === 'number' && maxBytes > 0 && Number.isFinite(maxBytes))) {
    throw new ResumeLogError('RESUME_BAD_OPTION', `maxBytes must be a positive number, got ${describe(maxBytes)}`);
  }
  if (typeof sizeOf !== 'function') throw new ResumeLogError('RESUME_BAD_OPTION', 'sizeOf must be a function');
  if (options.start !== undefined) checkPosition(options.start, 'start');

  // Ring buffer, grown by doubling up to maxEntries so a large limit costs nothing until used.
  let capacity = Math.min(maxEntries, INITIAL_CAPACITY);
  let positions: string[] = new Array<string>(capacity);
  let entries: (E | undefined)[] = new Array<E | undefined>(capacity);
  let sizes: number[] = new Array<number>(capacity);
  let head = 0;
  let count = 0;
  let bytes = 0;
  // Everything after `floor` is held: the last evicted position, or `start`. Undefined = unknown.
  let floor: string | undefined = options.start;

  const slot = (i: number): number => (head + i) % capacity;
  const newestHeld = (): string | undefined => (count === 0 ? undefined : positions[slot(count - 1)]);

  function grow(): void {
    const next = Math.min(capacity * 2, maxEntries);
    const p = new Array<string>(next);
    const e = new Array<E | undefined>(next);
    const s = new Array<number>(next);
    for (let i = 0; i < count; i++) {
      const j = slot(i);
      p[i] = positions[j]!;
      e[i] = entries[j];
      s[i] = sizes[j]!;
    }
    [positions, entries, sizes, capacity, head] = [p, e, s, next, 0];
  }

  function evictOldest(): void {
    floor = positions[head];
    entries[head] = undefined; // let the entry be collected
    bytes -= sizes[head]!;
    head = (head + 1) % capacity;
    count--;
  }

  /** Index of the first held entry strictly after `position` (count when none). */
  function firstAfter(position: string): number {
    let lo = 0;
    let hi = count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (positions[slot(mid)]! > position) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  return {
    append(position, entry) {
      checkPosition(position, 'position');
      const last = newestHeld() ?? floor;
      if (last !== undefined && position <= last) {
        throw new ResumeLogError('RESUME_POSITION_NOT_INCREASING', `position ${position} is not after the newest one, ${last}`);
      }
      const size = maxBytes === undefined ? 0 : sizeOf(entry);
      if (typeof size !== 'number' || !(size >= 0) || !Number.isFinite(size)) {
        throw new ResumeLogError('RESUME_BAD_ENTRY_SIZE', `sizeOf must return a finite number >= 0, got ${describe(size)}`);
      }
      if (count === capacity) {
        if (capacity < maxEntries) grow();
        else evictOldest();
      }
      const j = slot(count);
      positions[j] = position;
      entries[j] = entry;
      sizes[j] = size;
      count++;
      bytes += size;
      // May evict the new entry itself when it alone exceeds the budget: memory stays bounded and
      // the boundary still lets a client that saw it resume.
      while (maxBytes !== undefined && bytes > maxBytes && count > 0) evictOldest();
      if (count === 0) bytes = 0; // no float drift once empty
    },

    since(position) {
      if (!isStreamPosition(position)) return { ok: false, reason: 'malformed' };
      const newest = newestHeld() ?? floor;
      if (newest === undefined) return { ok: false, reason: 'too_old' };
      if (position > newest) return { ok: false, reason: 'unknown_future' };
      const from = floor ?? positions[head]!;
      if (position < from) return { ok: false, reason: 'too_old' };
      const result: E[] = [];
      for (let i = firstAfter(position); i < count; i++) result.push(entries[slot(i)] as E);
      return { ok: true, entries: result };
    },

    reset(start) {
      if (start !== undefined) checkPosition(start, 'start');
      entries = new Array<E | undefined>(capacity);
      head = 0;
      count = 0;
      bytes = 0;
      floor = start;
    },

    get resumableFrom() {
      return (floor ?? (count === 0 ? undefined : positions[head])) as StreamPosition | undefined;
    },
    get newest() {
      return (newestHeld() ?? floor) as StreamPosition | undefined;
    },
    get size() {
      return count;
    },
    get bytes() {
      return bytes;
    },
  };
}

function checkPosition(value: unknown, what: string): asserts value is StreamPosition {
  if (!isStreamPosition(value)) {
    throw new ResumeLogError('RESUME_BAD_POSITION', `${what} is not a stream position (like 00000016B374D848:00000000): ${describe(value)}`);
  }
}

function jsonLength(entry: unknown): number {
  return JSON.stringify(entry)?.length ?? 0;
}

/** A short, safe rendering of a bad value for error messages. */
function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'bigint') return `${value}n`;
  return value === null || typeof value !== 'object' ? String(value) : Object.prototype.toString.call(value);
}
