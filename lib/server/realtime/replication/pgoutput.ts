/**
 * Decoder of pgoutput's logical replication messages (protocol version 1, text values; PostgreSQL
 * docs "Logical Replication Message Formats"). Ours rather than pg-logical-replication's parser:
 * that one runs node-pg's type parsers on every value (Dates, numbers, arrays) and turns unchanged
 * TOAST values into `undefined` keyed by name, where we need each column's exact TEXT output (the
 * JSON conversion and the filters read it) positionally, and the 'u' marker kept apart from NULL.
 *
 * A tuple is an array in column order: the text output, null for SQL NULL, `undefined` for an
 * unchanged TOASTed value ('u', which pgoutput sends instead of the value when an UPDATE left it
 * untouched and the log does not carry it).
 */
import { ReplicationError } from './errors.js';

/** Column values in attribute order: text output, null (SQL NULL) or undefined (unchanged TOAST). */
export type TupleText = Array<string | null | undefined>;

export interface RelationColumnInfo {
  name: string;
  typeOid: number;
  /** Bit 1 of the flags: part of the replica identity (every column with REPLICA IDENTITY FULL). */
  isKey: boolean;
}

/** 'd' default (primary key), 'n' nothing, 'f' full, 'i' index. */
export type ReplicaIdentity = 'd' | 'n' | 'f' | 'i';

/** LSNs are 64-bit WAL positions; commit times are microseconds since 2000-01-01 UTC (PostgreSQL's epoch). */
export type PgoutputMessage =
  | { tag: 'begin'; finalLsn: bigint; commitTime: bigint; xid: number }
  | { tag: 'commit'; commitLsn: bigint; endLsn: bigint; commitTime: bigint }
  | { tag: 'relation'; relationOid: number; schema: string; table: string; replicaIdentity: ReplicaIdentity; columns: RelationColumnInfo[] }
  | { tag: 'insert'; relationOid: number; newTuple: TupleText }
  /** `key`: 'K' tuple (identity columns; the others are NULL placeholders); `old`: 'O' tuple (FULL). */
  | { tag: 'update'; relationOid: number; key: TupleText | null; old: TupleText | null; newTuple: TupleText }
  | { tag: 'delete'; relationOid: number; key: TupleText | null; old: TupleText | null }
  | { tag: 'truncate'; relationOids: number[] }
  /**
   * A logical decoding message (`pg_logical_emit_message`), sent only with the `messages` option:
   * a transactional one inside its transaction, in WAL order with the changes, at its commit.
   */
  | { tag: 'message'; transactional: boolean; lsn: bigint; prefix: string; content: Buffer }
  /** Origin and Type messages: nothing a change event needs. */
  | { tag: 'other'; kind: string };

/** Decodes one pgoutput message (the payload of an XLogData frame); throws REPLICATION_PROTOCOL on malformed input. */
export function decodePgoutput(buffer: Buffer): PgoutputMessage {
  const reader = new Reader(buffer);
  try {
    return decodeMessage(reader);
  } catch (error) {
    if (error instanceof ReplicationError) throw error;
    // A RangeError from reading past the end: a truncated message.
    throw new ReplicationError('REPLICATION_PROTOCOL', `malformed pgoutput message '${String.fromCharCode(buffer[0] ?? 63)}': ${(error as Error).message}`);
  }
}

function decodeMessage(reader: Reader): PgoutputMessage {
  const tag = reader.byte();
  switch (tag) {
    case 0x42 /* B */:
      return { tag: 'begin', finalLsn: reader.uint64(), commitTime: reader.uint64(), xid: reader.int32() };
    case 0x43 /* C */: {
      reader.byte(); // flags, unused
      return { tag: 'commit', commitLsn: reader.uint64(), endLsn: reader.uint64(), commitTime: reader.uint64() };
    }
    case 0x52 /* R */:
      return decodeRelation(reader);
    case 0x49 /* I */: {
      const relationOid = reader.uint32();
      expectByte(reader, 0x4e /* N */, 'insert');
      return { tag: 'insert', relationOid, newTuple: decodeTuple(reader) };
    }
    case 0x55 /* U */: {
      const relationOid = reader.uint32();
      let key: TupleText | null = null;
      let old: TupleText | null = null;
      let part = reader.byte();
      if (part === 0x4b /* K */) key = decodeTuple(reader);
      else if (part === 0x4f /* O */) old = decodeTuple(reader);
      if (key || old) part = reader.byte();
      if (part !== 0x4e /* N */) throw unexpected(part, 'update');
      return { tag: 'update', relationOid, key, old, newTuple: decodeTuple(reader) };
    }
    case 0x44 /* D */: {
      const relationOid = reader.uint32();
      const part = reader.byte();
      if (part !== 0x4b && part !== 0x4f) throw unexpected(part, 'delete');
      const tuple = decodeTuple(reader);
      return part === 0x4b ? { tag: 'delete', relationOid, key: tuple, old: null } : { tag: 'delete', relationOid, key: null, old: tuple };
    }
    case 0x54 /* T */: {
      const count = reader.uint32();
      reader.byte(); // options: cascade / restart identity
      const relationOids: number[] = [];
      for (let i = 0; i < count; i++) relationOids.push(reader.uint32());
      return { tag: 'truncate', relationOids };
    }
    case 0x4d /* M */: {
      // Protocol 1 (no streaming): no xid field before the flags.
      const transactional = (reader.byte() & 1) === 1;
      const lsn = reader.uint64();
      const prefix = reader.cstring();
      return { tag: 'message', transactional, lsn, prefix, content: reader.bytes(reader.uint32()) };
    }
    case 0x4f /* O */:
    case 0x59 /* Y */:
      return { tag: 'other', kind: String.fromCharCode(tag) };
    default:
      // Streaming ('S', 'E', 'c', 'A') and two-phase messages only come when asked for, and we never ask.
      throw new ReplicationError('REPLICATION_PROTOCOL', `unexpected pgoutput message '${String.fromCharCode(tag)}' (0x${tag.toString(16)})`);
  }
}

function decodeRelation(reader: Reader): PgoutputMessage {
  const relationOid = reader.uint32();
  const schema = reader.cstring();
  const table = reader.cstring();
  const identity = String.fromCharCode(reader.byte());
  if (identity !== 'd' && identity !== 'n' && identity !== 'f' && identity !== 'i') {
    throw new ReplicationError('REPLICATION_PROTOCOL', `unknown replica identity '${identity}' for ${schema}.${table}`);
  }
  const count = reader.uint16();
  const columns: RelationColumnInfo[] = [];
  for (let i = 0; i < count; i++) {
    const flags = reader.byte();
    const name = reader.cstring();
    const typeOid = reader.uint32();
    reader.int32(); // typmod: to_json ignores it, and so do we
    columns.push({ name, typeOid, isKey: (flags & 1) === 1 });
  }
  return { tag: 'relation', relationOid, schema, table, replicaIdentity: identity, columns };
}

function decodeTuple(reader: Reader): TupleText {
  const count = reader.uint16();
  const tuple: TupleText = new Array(count);
  for (let i = 0; i < count; i++) {
    const kind = reader.byte();
    if (kind === 0x74 /* t */) tuple[i] = reader.text(reader.uint32());
    else if (kind === 0x6e /* n */) tuple[i] = null;
    else if (kind === 0x75 /* u */) tuple[i] = undefined;
    // 'b' (binary) only with the `binary` option, which we never set.
    else throw unexpected(kind, 'tuple column');
  }
  return tuple;
}

function expectByte(reader: Reader, expected: number, what: string): void {
  const actual = reader.byte();
  if (actual !== expected) throw unexpected(actual, what);
}

function unexpected(byte: number, what: string): ReplicationError {
  return new ReplicationError('REPLICATION_PROTOCOL', `unexpected byte '${String.fromCharCode(byte)}' (0x${byte.toString(16)}) in ${what}`);
}

/** A cursor over one message; Buffer's own readers throw RangeError past the end. */
class Reader {
  private at = 0;
  constructor(private readonly buffer: Buffer) {}

  byte(): number {
    if (this.at >= this.buffer.length) throw new RangeError('message ends early');
    return this.buffer[this.at++]!;
  }

  uint16(): number {
    const value = this.buffer.readUInt16BE(this.at);
    this.at += 2;
    return value;
  }

  int32(): number {
    const value = this.buffer.readInt32BE(this.at);
    this.at += 4;
    return value;
  }

  uint32(): number {
    const value = this.buffer.readUInt32BE(this.at);
    this.at += 4;
    return value;
  }

  uint64(): bigint {
    const value = this.buffer.readBigUInt64BE(this.at);
    this.at += 8;
    return value;
  }

  cstring(): string {
    const end = this.buffer.indexOf(0, this.at);
    if (end < 0) throw new RangeError('string without terminator');
    const value = this.buffer.toString('utf8', this.at, end);
    this.at = end + 1;
    return value;
  }

  bytes(length: number): Buffer {
    const end = this.at + length;
    if (end > this.buffer.length) throw new RangeError('content longer than the message');
    const value = this.buffer.subarray(this.at, end);
    this.at = end;
    return value;
  }

  text(length: number): string {
    const end = this.at + length;
    if (end > this.buffer.length) throw new RangeError('value longer than the message');
    const value = this.buffer.toString('utf8', this.at, end);
    this.at = end;
    return value;
  }
}
