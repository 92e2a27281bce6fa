/**
 * pgoutput's Begin / Insert / Update / Delete / Commit messages → the ChangeEvents of each committed
 * transaction. Synchronous and allocation-lean: this runs once per change at stream rate.
 *
 * old_record follows Supabase (docs/realtime-protocol.md §2.8): the old tuple when the log has one
 * ('O' with REPLICA IDENTITY FULL: the whole row; 'K' when the key changed, and on DELETE: the
 * identity columns), otherwise, for an UPDATE, the identity columns read from the new row (they did
 * not change). An unchanged TOASTed column ('u') is left out of `record`, unless the old tuple holds
 * its value (FULL always does: PostgreSQL logs the old row detoasted).
 *
 * Positions: `formatPosition(commit LSN, index among the transaction's changes)`. The commit LSN
 * comes from Begin (pgoutput's final_lsn, equal to Commit's commit_lsn), and so does the commit
 * time, which is the same field of the same transaction that Commit repeats; Begin has it before the
 * first change, so each event is built complete in one pass.
 */
import { formatPosition } from './resumeLog.js';
import { ReplicationError } from './errors.js';
import { type PgoutputMessage, type TupleText } from './pgoutput.js';
import type { RelationShape } from './relations.js';
import { NO_PRIMARY_KEY_ERROR, type ChangeEvent, type LogicalMessage } from './types.js';

/** Milliseconds from 1970-01-01 to PostgreSQL's epoch 2000-01-01. */
const PG_EPOCH_MILLIS = 946_684_800_000;

type Message<T extends PgoutputMessage['tag']> = Extract<PgoutputMessage, { tag: T }>;

/** One committed transaction's events (empty when none touched a published table). */
export interface CommittedTransaction {
  commitLsn: bigint;
  /** The commit record's end: what we acknowledge once the events are delivered. */
  endLsn: bigint;
  events: ChangeEvent[];
  /** Changes counted beyond `maxTransactionChanges`; when > 0, `events` was dropped. */
  droppedChanges: number;
  /** Its transactional logical messages with a wanted prefix, in WAL order (usually none). */
  messages: LogicalMessage[];
}

interface OpenTransaction {
  commitLsn: bigint;
  commitTimestamp: string;
  /** Begin's xid (unsigned). */
  xid: number;
  events: ChangeEvent[];
  count: number;
  messages: LogicalMessage[];
}

/** Supabase's commit_timestamp (`to_char(... 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`): UTC, milliseconds truncated. */
export function formatCommitTimestamp(pgMicros: bigint): string {
  // Number arithmetic (exact below 2^53 µs, i.e. until the year 2255) is much cheaper than BigInt's;
  // flooring truncates like to_char's MS.
  return new Date(Math.floor(Number(pgMicros) / 1000) + PG_EPOCH_MILLIS).toISOString();
}

/** Collects the changes of the open transaction and hands them out at its commit. */
export class TransactionAssembler {
  private open: OpenTransaction | null = null;

  constructor(
    private readonly relations: ReadonlyMap<number, RelationShape>,
    private readonly maxTransactionChanges: number,
    /** Prefixes of the transactional logical messages to keep; others are skipped. */
    private readonly messagePrefixes: ReadonlySet<string> = new Set(),
  ) {}

  /** True between Begin and Commit. */
  get inTransaction(): boolean {
    return this.open !== null;
  }

  begin(message: Message<'begin'>): void {
    this.open = { commitLsn: message.finalLsn, commitTimestamp: formatCommitTimestamp(message.commitTime), xid: message.xid >>> 0, events: [], count: 0, messages: [] };
  }

  /** Keeps a transactional message with a wanted prefix; non-transactional ones (outside any order) are skipped. */
  message(message: Message<'message'>): void {
    if (!message.transactional || !this.messagePrefixes.has(message.prefix)) return;
    const open = this.open;
    if (!open) throw new ReplicationError('REPLICATION_PROTOCOL', 'pgoutput transactional message outside a transaction');
    open.messages.push({ prefix: message.prefix, content: message.content.toString('utf8'), xid: open.xid });
  }

  change(message: Message<'insert'> | Message<'update'> | Message<'delete'>): void {
    const open = this.open;
    if (!open) throw new ReplicationError('REPLICATION_PROTOCOL', `pgoutput ${message.tag} outside a transaction`);
    const relation = this.relations.get(message.relationOid);
    if (!relation) throw new ReplicationError('REPLICATION_PROTOCOL', `pgoutput ${message.tag} for relation ${message.relationOid}, never described`);
    const index = open.count++;
    if (index >= this.maxTransactionChanges) {
      // Keep counting (positions would be wrong otherwise) but stop holding memory for it.
      if (open.events.length > 0) open.events = [];
      return;
    }
    open.events.push(buildEvent(relation, message, formatPosition(open.commitLsn, index), open.commitTimestamp));
  }

  /** One TRUNCATE event per truncated table, each with its own position. */
  truncate(message: Message<'truncate'>): void {
    const open = this.open;
    if (!open) throw new ReplicationError('REPLICATION_PROTOCOL', 'pgoutput truncate outside a transaction');
    for (const oid of message.relationOids) {
      const relation = this.relations.get(oid);
      if (!relation) throw new ReplicationError('REPLICATION_PROTOCOL', `pgoutput truncate for relation ${oid}, never described`);
      const index = open.count++;
      if (index >= this.maxTransactionChanges) {
        if (open.events.length > 0) open.events = [];
        continue;
      }
      const { schema, table, columns, primaryKey } = relation;
      const position = formatPosition(open.commitLsn, index);
      open.events.push({ position, commitTimestamp: open.commitTimestamp, schema, table, type: 'TRUNCATE', columns, primaryKey, errors: null });
    }
  }

  commit(message: Message<'commit'>): CommittedTransaction {
    const open = this.open;
    if (!open) throw new ReplicationError('REPLICATION_PROTOCOL', 'pgoutput commit outside a transaction');
    if (open.commitLsn !== message.commitLsn) {
      throw new ReplicationError('REPLICATION_PROTOCOL', `pgoutput commit LSN ${message.commitLsn} differs from its begin's ${open.commitLsn}`);
    }
    this.open = null;
    const droppedChanges = Math.max(0, open.count - this.maxTransactionChanges);
    return { commitLsn: open.commitLsn, endLsn: message.endLsn, events: droppedChanges > 0 ? [] : open.events, droppedChanges, messages: open.messages };
  }

  /** Forgets a transaction cut off by a lost connection. */
  reset(): void {
    this.open = null;
  }
}

function buildEvent(
  relation: RelationShape,
  message: Message<'insert'> | Message<'update'> | Message<'delete'>,
  position: ChangeEvent['position'],
  commitTimestamp: string,
): ChangeEvent {
  const errors = relation.primaryKey.length === 0 ? [NO_PRIMARY_KEY_ERROR] : null;
  const { schema, table, columns, primaryKey } = relation;
  if (message.tag === 'insert') {
    const [record, recordText] = readRow(relation, message.newTuple, null, false);
    return { position, commitTimestamp, schema, table, type: 'INSERT', columns, record, recordText, primaryKey, errors };
  }
  if (message.tag === 'update') {
    const oldTuple = message.old ?? message.key;
    const [record, recordText] = readRow(relation, message.newTuple, oldTuple, message.old === null);
    const [oldRecord, oldRecordText] = message.old
      ? readRow(relation, message.old, null, false)
      : readRow(relation, message.key ?? message.newTuple, null, false, true);
    return { position, commitTimestamp, schema, table, type: 'UPDATE', columns, record, oldRecord, recordText, oldRecordText, primaryKey, errors };
  }
  const [oldRecord, oldRecordText] = message.old ? readRow(relation, message.old, null, false) : readRow(relation, message.key!, null, false, true);
  return { position, commitTimestamp, schema, table, type: 'DELETE', columns, oldRecord, oldRecordText, primaryKey, errors };
}

/**
 * A tuple → [JSON record, text record]. `identityOnly` keeps just the replica identity columns (a 'K'
 * tuple, whose other columns are placeholders, or the key read from a new row). An unchanged TOAST
 * value is taken from `fallback` (the old tuple) when that holds it, else left out.
 */
function readRow(
  relation: RelationShape,
  tuple: TupleText,
  fallback: TupleText | null,
  fallbackIsKeyOnly: boolean,
  identityOnly = false,
): [Record<string, unknown>, Record<string, string | null>] {
  const { names, converters, isIdentity } = relation;
  const record: Record<string, unknown> = {};
  const text: Record<string, string | null> = {};
  const count = Math.min(tuple.length, names.length);
  for (let i = 0; i < count; i++) {
    if (identityOnly && !isIdentity[i]) continue;
    let value = tuple[i];
    if (value === undefined) {
      if (fallback === null || (fallbackIsKeyOnly && !isIdentity[i])) continue;
      value = fallback[i];
      if (value === undefined) continue;
    }
    const name = names[i]!;
    const json = converters[i]!(value);
    if (relation.hasProtoColumn && name === '__proto__') {
      Object.defineProperty(record, name, { value: json, enumerable: true, writable: true, configurable: true });
      Object.defineProperty(text, name, { value, enumerable: true, writable: true, configurable: true });
    } else {
      record[name] = json;
      text[name] = value;
    }
  }
  for (const name of relation.inheritedNames) {
    if (Object.prototype.hasOwnProperty.call(text, name)) continue;
    Object.defineProperty(record, name, { value: undefined, enumerable: false, writable: true, configurable: true });
    Object.defineProperty(text, name, { value: undefined, enumerable: false, writable: true, configurable: true });
  }
  return [record, text];
}
