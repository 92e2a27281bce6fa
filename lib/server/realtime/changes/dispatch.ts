/**
 * Committed changes → `postgres_changes` messages. Per batch: match each change against the
 * subscriptions of its table (event and filter), ask the visibility checker once per table for all
 * subscriber groups and rows, strip columns each role can't SELECT, and send one message per
 * channel per change, in stream order. A change's `data` is serialized once per column set and its
 * frame once per (topic, ids, column set, vsn).
 *
 * Jobs run one at a time, in the order they were queued: change batches and control jobs (a join's
 * replay and registration, a resync notice). Batches queued while an earlier job runs are merged
 * into one dispatch (up to MAX_MERGED_EVENTS), so under load the per-batch costs (catalog reads,
 * one check query per subscriber group) are paid once per burst instead of once per transaction.
 */
import { encodeFanout, rawJson, type FanoutFrames } from '../codec.js';
import { subscriberGroupKey, type KeyRow, type KeyedTable, type SubscriberGroup, type VisibilityChecker } from '../authorization/index.js';
import { EVENT } from '../messages.js';
import type { ChangeEvent } from '../replication/index.js';
import type { StreamPosition } from '../resumeLog.js';
import type { JoinedChannel } from '../rooms.js';
import type { RowText } from '../filters.js';
import type { SqlFilter } from './sqlFilter.js';
import type { Subscription } from './subscriptions.js';

/** Where a dispatch finds its subscribers: the live registry, or one joining channel's replay. */
export interface SubscriberLookup {
  forTable(schema: string, table: string): readonly Subscription[];
  /** False once the channel left: nothing more is sent to it. */
  has(channel: JoinedChannel): boolean;
  /**
   * Changes whenever a subscription or a subscriber's claims change. With it, the channels of
   * bindings without a filter are worked out once per table and event type, not once per change.
   */
  readonly version?: number;
}

export interface ChangeDispatcher {
  /** Queues a batch; batches are dispatched one after another, in order. */
  enqueue(events: readonly ChangeEvent[]): void;
  /** Queues a job that runs after everything queued before it was dispatched, and before anything queued after it. */
  run(job: () => Promise<void> | void): void;
  /** Dispatches `events` to the subscribers `lookup` gives (a replay); call from inside a `run` job. */
  dispatchTo(lookup: SubscriberLookup, events: readonly ChangeEvent[]): Promise<void>;
  /** The position of the last change dispatched (or what `position` was last set to). */
  position: StreamPosition | undefined;
  /** Resolves once everything queued so far was sent. */
  idle(): Promise<void>;
}

export interface DispatcherOptions {
  registry: SubscriberLookup;
  checker: VisibilityChecker;
  /** A change whose `data` is larger keeps only values of at most 64 bytes and gets Supabase's 413 error. Default 1 MiB. */
  maxRecordBytes?: number;
  /** A TRUNCATE of a table `channel` subscribes to: its copy of the table must be refetched. */
  onTruncate?: (channel: JoinedChannel, event: ChangeEvent) => void;
  /**
   * `channel` may have missed changes up to `position`: its filter's SQL evaluation failed
   * (`filter_failed`), or reading the table's authorization facts did (`check_failed`).
   */
  onMissed?: (channel: JoinedChannel, position: StreamPosition, reason: MissedReason) => void;
  onError?: (error: unknown) => void;
}

/** Supabase's `max_record_bytes` default. */
export const DEFAULT_MAX_RECORD_BYTES = 1024 * 1024;

export type MissedReason = 'filter_failed' | 'check_failed';

/** At most this many changes go into one merged dispatch. */
export const MAX_MERGED_EVENTS = 20_000;

/** What one channel gets of one change. */
interface Target {
  /** Its matching binding ids, in binding order. */
  ids: number[];
  /** Columns its matching bindings `select` (with the key); null when one of them selects all. */
  select: Set<string> | null;
}

/** The channels of one subscriber group among a change's targets. */
interface GroupTargets {
  group: SubscriberGroup;
  entries: Array<[JoinedChannel, Target]>;
}

/** A change's targets, also grouped by subscriber group (one visibility answer per group). */
interface Targets {
  channels: Map<JoinedChannel, Target>;
  byGroup: GroupTargets[];
}

/** Targets of one table's bindings without a filter, per registry version. */
interface StaticTargets {
  version: number;
  /** Bindings with a filter: matched per change. */
  filtered: Subscription[];
  unfiltered: Subscription[];
  /** Per change type; shared by every change of that type: never mutated. */
  byType: Map<string, Targets>;
}

interface MatchedChange {
  event: ChangeEvent;
  /** Its table's key in the batch's `tables` and `facts` (empty for TRUNCATE, which needs no facts). */
  tableKey: string;
  targets: Targets;
  /** Index of the event's key row in its table's check, when it is checked. */
  rowIndex: number;
}

interface TableBatch {
  table: KeyedTable;
  groups: Map<string, SubscriberGroup>;
  rows: KeyRow[];
  roles: Set<string>;
  hasDelete: boolean;
}

interface TableFacts {
  visible: Map<string, ReadonlySet<number>>;
  columns: Map<string, readonly string[]>;
  rlsEnabled: boolean;
  /** Reading them failed: nothing of the table goes out in this batch. */
  failed?: boolean;
}

type Job = { kind: 'batch'; events: readonly ChangeEvent[] } | { kind: 'run'; job: () => Promise<void> | void };

/** Creates the dispatcher; see the module notes. */
export function createChangeDispatcher(options: DispatcherOptions): ChangeDispatcher {
  const { registry, checker } = options;
  const maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const onError = options.onError ?? ((error: unknown) => console.warn(`[realtime postgres_changes] ${(error as Error)?.message ?? String(error)}`));
  const groupKeys = new WeakMap<object, SubscriberGroup>();
  const jobs: Job[] = [];
  let running: Promise<void> | null = null;
  let position: StreamPosition | undefined;

  /** One group object per claims object (a token refresh replaces the claims, and so the group). */
  const groupOf = (channel: JoinedChannel): SubscriberGroup => {
    let group = groupKeys.get(channel.claims);
    if (group === undefined) {
      const claims = channel.claims as Record<string, unknown>;
      groupKeys.set(channel.claims, (group = { groupKey: subscriberGroupKey(claims), role: String(claims.role), claims }));
    }
    return group;
  };

  async function dispatch(lookup: SubscriberLookup, events: readonly ChangeEvent[]): Promise<void> {
    if (events.length === 0) return;
    const missed = new Map<JoinedChannel, MissedReason>();
    const sqlPassed = await evaluateSqlFilters(lookup, events, missed);
    try {
      await send(lookup, events, sqlPassed, missed);
    } finally {
      // After the batch's frames: a refetch prompted by the notice must not be followed by older changes.
      const position = events[events.length - 1]!.position;
      for (const [channel, reason] of missed) if (lookup.has(channel)) options.onMissed?.(channel, position, reason);
    }
  }

  async function send(
    lookup: SubscriberLookup,
    events: readonly ChangeEvent[],
    sqlPassed: ReadonlyMap<string, ReadonlySet<number>>,
    missed: Map<JoinedChannel, MissedReason>,
  ): Promise<void> {
    const matched: MatchedChange[] = [];
    const tables = new Map<string, TableBatch>();
    for (const [eventIndex, event] of events.entries()) {
      if (event.type === 'TRUNCATE') {
        const channels = new Map<JoinedChannel, Target>();
        for (const subscription of lookup.forTable(event.schema, event.table)) channels.set(subscription.channel, { ids: [], select: null });
        if (channels.size > 0) matched.push({ event, targets: { channels, byGroup: [] }, rowIndex: -1, tableKey: '' });
        continue;
      }
      const targets = targetsOf(lookup, event, eventIndex, sqlPassed);
      if (targets.channels.size === 0) continue;
      const key = JSON.stringify([event.schema, event.table]);
      let batch = tables.get(key);
      if (!batch) {
        batch = { table: { schema: event.schema, name: event.table, primaryKey: event.primaryKey }, groups: new Map(), rows: [], roles: new Set(), hasDelete: false };
        tables.set(key, batch);
      }
      let rowIndex = -1;
      // DELETEs can't be checked (the row is gone) and keyless rows can't be found: Supabase skips both.
      if (event.type !== 'DELETE' && event.errors === null && event.recordText) {
        rowIndex = batch.rows.length;
        batch.rows.push(keyRow(event.recordText, event.primaryKey));
      }
      if (event.type === 'DELETE') batch.hasDelete = true;
      for (const { group } of targets.byGroup) {
        if (rowIndex >= 0) batch.groups.set(group.groupKey, group);
        batch.roles.add(group.role);
      }
      matched.push({ event, targets, rowIndex, tableKey: key });
    }
    if (matched.length === 0) return;

    const facts = new Map<string, TableFacts>();
    await Promise.all(
      [...tables].map(async ([key, batch]) => {
        try {
          facts.set(key, await checker.checkBatch(batch.table, [...batch.groups.values()], batch.rows, [...batch.roles]));
        } catch (error) {
          // The table is gone or the catalog unreadable: nobody gets this batch's changes of it, and
          // the channels that would have are told to resync.
          onError(error);
          facts.set(key, { visible: new Map(), columns: new Map(), rlsEnabled: true, failed: true });
          for (const change of matched) {
            if (change.tableKey !== key) continue;
            for (const channel of change.targets.channels.keys()) if (!missed.has(channel)) missed.set(channel, 'check_failed');
          }
        }
      }),
    );

    for (const { event, targets, rowIndex, tableKey } of matched) {
      if (event.type === 'TRUNCATE') {
        for (const channel of targets.channels.keys()) if (lookup.has(channel)) options.onTruncate?.(channel, event);
        continue;
      }
      const tableFacts = facts.get(tableKey)!;
      if (tableFacts.failed) continue;
      const dataTexts = new Map<string, string>();
      const frames = new Map<string, FanoutFrames>();
      const shapes = shapesOf(tableFacts, event.primaryKey);
      for (const { group, entries } of targets.byGroup) {
        const shape = shapes.get(group.role) ?? UNAUTHORIZED_SHAPE;
        // Supabase's answer to a role that may not read the row's key: the change, withheld, with 401.
        const unauthorized = shape === UNAUTHORIZED_SHAPE;
        if (!unauthorized && rowIndex >= 0 && !tableFacts.visible.get(group.groupKey)?.has(rowIndex)) continue;
        for (const [channel, { ids, select }] of entries) {
          // Left, or its token was refreshed, while the checks ran.
          if (!lookup.has(channel) || groupOf(channel).groupKey !== group.groupKey) continue;
          let columns = shape.columns;
          let columnsKey = shape.key;
          let dataText: string | undefined;
          if (unauthorized) {
            dataText = dataTexts.get(columnsKey);
            if (dataText === undefined) dataTexts.set(columnsKey, (dataText = JSON.stringify(withheldData(event, UNAUTHORIZED_ERROR))));
          } else {
            if (select !== null) {
              columns = columns.filter((column) => select.has(column) || event.primaryKey.includes(column));
              columnsKey = columns.join('\u0000');
            }
            dataText = dataTexts.get(columnsKey);
            if (dataText === undefined) dataTexts.set(columnsKey, (dataText = dataJson(event, columns, tableFacts.rlsEnabled, maxRecordBytes)));
          }
          const frameKey = `${channel.topic}\u0001${ids.length === 1 ? ids[0] : ids.join(',')}\u0001${columnsKey}`;
          let frame = frames.get(frameKey);
          if (!frame) {
            const payload = `{"ids":${JSON.stringify(ids)},"data":${dataText},"position":${JSON.stringify(event.position)}}`;
            frames.set(frameKey, (frame = encodeFanout(channel.topic, EVENT.postgresChanges, rawJson(payload))));
          }
          const bytes = frame.frameFor(channel.peer.vsn);
          if (bytes !== null) channel.peer.sendFrame(bytes);
        }
      }
    }
  }

  /** `channels` grouped by subscriber group. */
  function grouped(channels: Map<JoinedChannel, Target>): Targets {
    const byKey = new Map<string, GroupTargets>();
    for (const entry of channels) {
      const group = groupOf(entry[0]);
      let targets = byKey.get(group.groupKey);
      if (!targets) byKey.set(group.groupKey, (targets = { group, entries: [] }));
      targets.entries.push(entry);
    }
    return { channels, byGroup: [...byKey.values()] };
  }

  const staticTargets = new WeakMap<SubscriberLookup, Map<string, StaticTargets>>();

  /** The channels `event` reaches and their binding ids: cached for unfiltered bindings, matched for filtered ones. */
  function targetsOf(lookup: SubscriberLookup, event: ChangeEvent, eventIndex: number, sqlPassed: ReadonlyMap<string, ReadonlySet<number>>): Targets {
    const version = lookup.version;
    if (version === undefined) return grouped(match(event, lookup.forTable(event.schema, event.table), eventIndex, sqlPassed));
    let perTable = staticTargets.get(lookup);
    if (!perTable) staticTargets.set(lookup, (perTable = new Map()));
    const key = `${event.schema}\u0000${event.table}`;
    let cached = perTable.get(key);
    if (!cached || cached.version !== version) {
      if (cached === undefined && perTable.size > 10_000) perTable.clear();
      const subscriptions = lookup.forTable(event.schema, event.table);
      const filtered = subscriptions.filter((subscription) => subscription.matches !== null || subscription.sql !== null);
      const unfiltered = subscriptions.filter((subscription) => subscription.matches === null && subscription.sql === null);
      perTable.set(key, (cached = { version, filtered, unfiltered, byType: new Map() }));
    }
    let shared = cached.byType.get(event.type);
    if (!shared) cached.byType.set(event.type, (shared = grouped(match(event, cached.unfiltered, eventIndex, sqlPassed))));
    if (cached.filtered.length === 0) return shared;
    // Copies: the shared targets must stay as they are for the next change.
    const channels = new Map<JoinedChannel, Target>();
    for (const [channel, target] of shared.channels) channels.set(channel, { ids: [...target.ids], select: target.select && new Set(target.select) });
    return grouped(match(event, cached.filtered, eventIndex, sqlPassed, channels));
  }

  /**
   * Runs each SQL filter once for the batch's rows that pass its in-memory part; returns, per filter
   * key, the indexes of the events that pass. A failed query is reported and its channels are told
   * to resync (never a silent miss).
   */
  async function evaluateSqlFilters(
    lookup: SubscriberLookup,
    events: readonly ChangeEvent[],
    missed: Map<JoinedChannel, MissedReason>,
  ): Promise<Map<string, Set<number>>> {
    const pending = new Map<string, { filter: SqlFilter; rows: RowText[]; eventIndexes: number[]; channels: Set<JoinedChannel> }>();
    for (const [eventIndex, event] of events.entries()) {
      if (event.type === 'TRUNCATE') continue;
      const row = rowOf(event);
      if (!row) continue;
      for (const subscription of lookup.forTable(event.schema, event.table)) {
        const filter = subscription.sql;
        if (filter === null || (subscription.event !== null && subscription.event !== event.type)) continue;
        if (!filter.prefilter(row) || filter.columns.some((column) => row[column] === undefined)) continue;
        let job = pending.get(filter.key);
        if (!job) pending.set(filter.key, (job = { filter, rows: [], eventIndexes: [], channels: new Set() }));
        job.channels.add(subscription.channel);
        if (job.eventIndexes[job.eventIndexes.length - 1] === eventIndex) continue;
        job.rows.push(row);
        job.eventIndexes.push(eventIndex);
      }
    }
    const passed = new Map<string, Set<number>>();
    await Promise.all(
      [...pending].map(async ([key, job]) => {
        try {
          const rows = await job.filter.evaluate(job.rows);
          passed.set(key, new Set([...rows].map((index) => job.eventIndexes[index]!)));
        } catch (error) {
          onError(error);
          for (const channel of job.channels) missed.set(channel, 'filter_failed');
        }
      }),
    );
    return passed;
  }

  /** The next batch: the first queued one merged with the batches right behind it. */
  function takeBatch(first: readonly ChangeEvent[]): readonly ChangeEvent[] {
    if (jobs[0]?.kind !== 'batch') return first;
    const merged = [...first];
    while (jobs[0]?.kind === 'batch' && merged.length + jobs[0].events.length <= MAX_MERGED_EVENTS) {
      for (const event of (jobs.shift() as { events: readonly ChangeEvent[] }).events) merged.push(event);
    }
    return merged;
  }

  async function drain(): Promise<void> {
    for (let next = jobs.shift(); next; next = jobs.shift()) {
      try {
        if (next.kind === 'run') {
          await next.job();
          continue;
        }
        const events = takeBatch(next.events);
        if (events.length === 0) continue;
        // Advanced first: a job queued behind this batch must see it as dispatched even if sending failed.
        position = events[events.length - 1]!.position;
        await dispatch(registry, events);
      } catch (error) {
        onError(error);
      }
    }
    running = null;
  }

  const schedule = (job: Job) => {
    jobs.push(job);
    running ??= drain();
  };

  return {
    enqueue: (events) => schedule({ kind: 'batch', events }),
    run: (job) => schedule({ kind: 'run', job }),
    dispatchTo: dispatch,
    get position() {
      return position;
    },
    set position(value) {
      position = value;
    },
    idle: async () => {
      while (running) await running;
    },
  };
}

/** Filters see the new row, DELETE's the old one (§2.7). */
const rowOf = (event: ChangeEvent): RowText | undefined => (event.type === 'DELETE' ? event.oldRecordText : event.recordText);

/** The matching binding ids of each channel, in binding order. */
function match(
  event: ChangeEvent,
  subscriptions: readonly Subscription[],
  eventIndex: number,
  sqlPassed: ReadonlyMap<string, ReadonlySet<number>>,
  targets = new Map<JoinedChannel, Target>(),
): Map<JoinedChannel, Target> {
  if (subscriptions.length === 0) return targets;
  const row = rowOf(event);
  for (const subscription of subscriptions) {
    if (subscription.event !== null && subscription.event !== event.type) continue;
    if (subscription.matches !== null && !(row && subscription.matches(row))) continue;
    if (subscription.sql !== null && !sqlPassed.get(subscription.sql.key)?.has(eventIndex)) continue;
    const target = targets.get(subscription.channel);
    if (!target) {
      targets.set(subscription.channel, { ids: [subscription.id], select: subscription.select === null ? null : new Set(subscription.select) });
      continue;
    }
    if (!target.ids.includes(subscription.id)) target.ids.push(subscription.id);
    if (subscription.select === null) target.select = null;
    else if (target.select !== null) for (const column of subscription.select) target.select.add(column);
  }
  return targets;
}

function keyRow(row: Readonly<Record<string, string | null>>, primaryKey: readonly string[]): KeyRow {
  const key: Record<string, string | null> = {};
  for (const column of primaryKey) key[column] = row[column] ?? null;
  return key;
}

/** What a role gets of a table's changes: its readable columns and their cache key. */
interface Shape {
  columns: readonly string[];
  key: string;
}
const UNAUTHORIZED_SHAPE: Shape = { columns: [], key: '\u0002401' };
const shapeCache = new WeakMap<TableFacts, Map<string, Shape>>();

/** Per role, once per table and batch: the columns it may read, or UNAUTHORIZED_SHAPE when that excludes the key. */
function shapesOf(facts: TableFacts, primaryKey: readonly string[]): Map<string, Shape> {
  let shapes = shapeCache.get(facts);
  if (shapes) return shapes;
  shapes = new Map();
  for (const [role, columns] of facts.columns) {
    const authorized = columns.length > 0 && primaryKey.every((column) => columns.includes(column));
    shapes.set(role, authorized ? { columns, key: columns.join('\u0000') } : UNAUTHORIZED_SHAPE);
  }
  shapeCache.set(facts, shapes);
  return shapes;
}

/** Supabase's error for a subscriber whose role may not SELECT the table's key (its data is withheld). */
export const UNAUTHORIZED_ERROR = 'Error 401: Unauthorized';

/** A change with its row withheld and `error` (Supabase's shape for 400/401, §2.4). */
function withheldData(event: ChangeEvent, error: string): Record<string, unknown> {
  const data: Record<string, unknown> = { schema: event.schema, table: event.table, commit_timestamp: null, type: event.type, columns: [] };
  if (event.record) data.record = {};
  if (event.oldRecord) data.old_record = {};
  data.errors = [error];
  return data;
}

/** Supabase's error for a row over `max_record_bytes`; only values of at most 64 bytes are kept then. */
export const PAYLOAD_TOO_LARGE_ERROR = 'Error 413: Payload Too Large';
const SMALL_VALUE_BYTES = 64;

/** `data` as JSON text; over `maxRecordBytes`, Supabase's 413 form (small values only). */
function dataJson(event: ChangeEvent, columns: readonly string[], rlsEnabled: boolean, maxRecordBytes: number): string {
  const data = changeData(event, columns, rlsEnabled);
  const text = JSON.stringify(data);
  // UTF-8 takes at most 3 bytes per UTF-16 unit: measure only when it could be over.
  if (text.length * 3 <= maxRecordBytes || Buffer.byteLength(text) <= maxRecordBytes) return text;
  const small = (row: unknown) => {
    if (row === undefined) return undefined;
    const kept: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(row as Record<string, unknown>)) {
      if (Buffer.byteLength(JSON.stringify(value) ?? '') <= SMALL_VALUE_BYTES) kept[name] = value;
    }
    return kept;
  };
  const record = small(data.record);
  const oldRecord = small(data.old_record);
  return JSON.stringify({
    ...data,
    ...(record && { record }),
    ...(oldRecord && { old_record: oldRecord }),
    errors: [...((data.errors as string[] | null) ?? []), PAYLOAD_TOO_LARGE_ERROR],
  });
}

/** Supabase's `data`, limited to `columns` (those the role may SELECT); see protocol notes §2.4, §2.8. */
function changeData(event: ChangeEvent, columns: readonly string[], rlsEnabled: boolean): Record<string, unknown> {
  const allowed = new Set(columns);
  const withheld = event.errors !== null;
  const data: Record<string, unknown> = {
    schema: event.schema,
    table: event.table,
    commit_timestamp: withheld ? null : event.commitTimestamp,
    type: event.type,
    columns: withheld ? [] : event.columns.filter((column) => allowed.has(column.name)),
  };
  if (event.record) data.record = withheld ? {} : pick(event.record, allowed);
  if (event.oldRecord) {
    // With RLS on, a DELETE's old row is not checked, so only its key goes out (apply_rls.sql).
    const oldAllowed = event.type === 'DELETE' && rlsEnabled ? new Set(event.primaryKey.filter((name) => allowed.has(name))) : allowed;
    data.old_record = withheld ? {} : pick(event.oldRecord, oldAllowed);
  }
  data.errors = event.errors;
  return data;
}

function pick(row: Readonly<Record<string, unknown>>, allowed: ReadonlySet<string>): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  for (const name of Object.keys(row)) if (allowed.has(name)) picked[name] = row[name];
  return picked;
}
