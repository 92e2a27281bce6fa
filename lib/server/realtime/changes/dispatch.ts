/**
 * Committed changes → `postgres_changes` messages. Per batch: match each change against the
 * subscriptions of its table (event and in-memory filter, targets.ts), ask the visibility checker
 * once per table for all subscriber groups and row images, evaluate the filters PostgreSQL must
 * evaluate per group over only the rows that group may see, and send each channel what its group
 * may see of each change (payloads.ts), one message per channel per change, in stream order;
 * channels without such filters first, without waiting for them. A change's `data`
 * is serialized once per (type, column set) and its frame once per (topic, ids, data, vsn).
 *
 * ## What a subscriber gets, judged as of the change
 * Visibility is decided on the change's own row images, never on the table as it is later
 * (authorization/visibility.ts). For a group whose reads RLS filters:
 * - INSERT: sent when the new row is visible.
 * - UPDATE: sent when the new row is visible; `old_record` carries the old row's readable columns
 *   only when the old row (REPLICA IDENTITY FULL) was visible too, else its key. When the new row is
 *   hidden, channels that asked for leave events hear LEAVE (the key only) if the old row was
 *   visible or can't be known (default replica identity): the row left their view.
 * - DELETE: sent to every matching binding, with the old row's readable columns when it was visible,
 *   else the key only; a binding whose filter reads other columns than the key matches only what the
 *   subscriber could see, so a filter is never an oracle on a hidden old row.
 * - A row whose visibility can't be decided (a policy reads a value the change lacks, or the check
 *   failed) is not sent; the channel is told to resync after the batch (`visibility_unknown`).
 *
 * Jobs run one at a time, in the order they were queued: change batches and control jobs (a join's
 * replay and registration, a resync notice). Batches queued while an earlier job runs are merged
 * into one dispatch (up to MAX_MERGED_EVENTS), so under load the per-batch costs (catalog reads,
 * one check query per subscriber group) are paid once per burst instead of once per transaction.
 */
import { encodeFanout, rawJson, type FanoutFrames } from '../codec/index.js';
import type { RowText, SubscriberGroup, VisibilityChecker } from '../authorization/index.js';
import { EVENT } from '../codec/messages.js';
import type { ChangeEvent } from '../replication/index.js';
import type { StreamPosition } from '../replication/resumeLog.js';
import type { JoinedChannel } from '../channels/rooms.js';
import { dataJson, UNAUTHORIZED_ERROR, withheldJson, type DeliveredType, type Visible } from './payloads.js';
import type { SqlFilter } from './sqlFilter.js';
import { FilterTimeoutError } from './sqlFilter.js';
import { createTargetFinder, NO_TARGETS, type GroupTargets, type SubscriberLookup, type Target, type Targets } from './targets.js';

export type { SubscriberLookup } from './targets.js';
export { PAYLOAD_TOO_LARGE_ERROR, UNAUTHORIZED_ERROR } from './payloads.js';

export interface ChangeDispatcher {
  /** Queues a batch; batches are dispatched one after another, in order. */
  enqueue(events: readonly ChangeEvent[]): void;
  /** Queues a job that runs after everything queued before it was dispatched, and before anything queued after it. */
  run(job: () => Promise<void> | void): void;
  /** Dispatches `events` to the subscribers `lookup` gives (a replay); call from inside a `run` job. */
  dispatchTo(lookup: SubscriberLookup, events: readonly ChangeEvent[]): Promise<void>;
  /** The position of the last change dispatched (or what `position` was last set to). */
  position: StreamPosition | undefined;
  /**
   * The position of the last batch whose dispatch finished: every change up to it reached (or was
   * judged for) every registered channel. Behind `position` while a batch is being dispatched.
   */
  readonly completedPosition: StreamPosition | undefined;
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
   * (`filter_failed`), reading the table's authorization facts did (`check_failed`), or whether it
   * may see a change could not be decided (`visibility_unknown`).
   */
  onMissed?: (channel: JoinedChannel, position: StreamPosition, reason: MissedReason) => void;
  /** A SQL filter took longer than its time limit: the bindings using it are refused (`filter` is their filter text). */
  onFilterRefused?: (channel: JoinedChannel, filter: SqlFilter, error: FilterTimeoutError) => void;
  onError?: (error: unknown) => void;
}

/** Supabase's `max_record_bytes` default. */
export const DEFAULT_MAX_RECORD_BYTES = 1024 * 1024;

export type MissedReason = 'filter_failed' | 'check_failed' | 'visibility_unknown';

/** At most this many changes go into one merged dispatch. */
export const MAX_MERGED_EVENTS = 20_000;

interface MatchedChange {
  event: ChangeEvent;
  /** Its table's key in the batch's `tables` and `facts` (empty for TRUNCATE, which needs no facts). */
  tableKey: string;
  targets: Targets;
  /** UPDATE: channels that asked for leave events whose bindings match the old row. */
  leaveTargets: Targets;
  /** Index of the new row image in its table's check (-1: none). */
  newIndex: number;
  /** Index of the old row image in its table's check (-1: not checked: only the key is known). */
  oldIndex: number;
}

interface TableBatch {
  table: { schema: string; name: string; primaryKey: readonly string[] };
  groups: Map<string, SubscriberGroup>;
  rows: RowText[];
  roles: Set<string>;
}

interface TableFacts {
  visible: Map<string, ReadonlySet<number>>;
  undecided: Map<string, ReadonlySet<number>>;
  columns: Map<string, readonly string[]>;
  rlsEnabled: boolean;
  /** Reading them failed: nothing of the table goes out in this batch. */
  failed?: boolean;
}

type Visibility = 'visible' | 'hidden' | 'unknown';

/** One SQL filter's work for one subscriber group in a batch. */
interface SqlJob {
  filter: SqlFilter;
  /** The group's channels whose bindings use it. */
  channels: Set<JoinedChannel>;
  rows: RowText[];
  /** Per row: the index of its change in the batch. */
  changeIndexes: number[];
  failed?: boolean;
}

/** Per job key (sqlJobKey): the indexes of the batch's changes that passed. */
type SqlVerdicts = ReadonlyMap<string, ReadonlySet<number>>;
const NO_VERDICTS: SqlVerdicts = new Map();
const NO_LEAVE_GROUPS: Map<string, GroupTargets> = new Map();

const sqlJobKey = (filter: SqlFilter, group: SubscriberGroup) => `${filter.key}\u0001${group.groupKey}`;

/** What `group` may see of row image `index` of a table's check (-1: no image checked, unknown). */
function visibilityOf(facts: TableFacts, group: SubscriberGroup, index: number): Visibility {
  if (index < 0) return 'unknown';
  if (facts.visible.get(group.groupKey)?.has(index)) return 'visible';
  return facts.undecided.get(group.groupKey)?.has(index) ? 'unknown' : 'hidden';
}

/**
 * The row a filter of `group` may be evaluated on for `change`: the new row when the group may see
 * it; a DELETE's old row when it may see it, or (for a filter on key columns) the old row's key,
 * which every DELETE reveals; undefined when the filter must not look at the row at all.
 */
function visibleImage(change: MatchedChange, facts: TableFacts, group: SubscriberGroup, keyOnlyFilter: boolean): RowText | undefined {
  const { event } = change;
  if (event.type !== 'DELETE') return visibilityOf(facts, group, change.newIndex) === 'visible' ? event.recordText : undefined;
  if (!facts.rlsEnabled || visibilityOf(facts, group, change.oldIndex) === 'visible') return event.oldRecordText;
  if (!keyOnlyFilter || !event.oldRecordText) return undefined;
  const key: Record<string, string | null | undefined> = {};
  for (const column of event.primaryKey) key[column] = event.oldRecordText[column];
  return key;
}

type Job = { kind: 'batch'; events: readonly ChangeEvent[] } | { kind: 'run'; job: () => Promise<void> | void };

/** Rows sent to PostgreSQL per SQL filter query: each query is bounded by the filter time limit. */
const SQL_FILTER_CHUNK = 500;

/** Creates the dispatcher; see the module notes. */
export function createChangeDispatcher(options: DispatcherOptions): ChangeDispatcher {
  const { registry, checker } = options;
  const maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const onError = options.onError ?? ((error: unknown) => console.warn(`[realtime postgres_changes] ${(error as Error)?.message ?? String(error)}`));
  const finder = createTargetFinder(onError);
  const jobs: Job[] = [];
  let running: Promise<void> | null = null;
  let position: StreamPosition | undefined;
  let completedPosition: StreamPosition | undefined;

  async function dispatch(lookup: SubscriberLookup, events: readonly ChangeEvent[]): Promise<void> {
    if (events.length === 0) return;
    const missed = new Map<JoinedChannel, MissedReason>();
    try {
      await send(lookup, events, missed);
    } finally {
      // After the batch's frames: a refetch prompted by the notice must not be followed by older changes.
      const position = events[events.length - 1]!.position;
      for (const [channel, reason] of missed) if (lookup.has(channel)) options.onMissed?.(channel, position, reason);
    }
  }

  async function send(lookup: SubscriberLookup, events: readonly ChangeEvent[], missed: Map<JoinedChannel, MissedReason>): Promise<void> {
    const matched: MatchedChange[] = [];
    const tables = new Map<string, TableBatch>();
    for (const event of events) {
      if (event.type === 'TRUNCATE') {
        const channels = new Map<JoinedChannel, Target>();
        for (const subscription of lookup.forTable(event.schema, event.table)) channels.set(subscription.channel, { ids: [], keyOnly: [], sql: [], select: null });
        if (channels.size > 0) matched.push({ event, targets: { channels, byGroup: [] }, leaveTargets: NO_TARGETS, newIndex: -1, oldIndex: -1, tableKey: '' });
        continue;
      }
      const targets = finder.targetsOf(lookup, event);
      const leaveTargets = finder.leaveTargetsOf(lookup, event);
      if (targets.channels.size === 0 && leaveTargets.channels.size === 0) continue;
      const key = JSON.stringify([event.schema, event.table]);
      let batch = tables.get(key);
      if (!batch) {
        batch = { table: { schema: event.schema, name: event.table, primaryKey: event.primaryKey }, groups: new Map(), rows: [], roles: new Set() };
        tables.set(key, batch);
      }
      const image = (row: RowText | undefined) => {
        if (row === undefined) return -1;
        batch!.rows.push(row);
        return batch!.rows.length - 1;
      };
      const newIndex = event.type === 'DELETE' ? -1 : image(event.recordText);
      // The old row is worth checking only when it says more than its key (REPLICA IDENTITY FULL),
      // or when a LEAVE depends on it.
      const oldIndex = event.type === 'INSERT' || !(leaveTargets.channels.size > 0 || hasMoreThanKey(event)) ? -1 : image(event.oldRecordText);
      for (const { group } of [...targets.byGroup, ...leaveTargets.byGroup]) {
        batch.groups.set(group.groupKey, group);
        batch.roles.add(group.role);
      }
      matched.push({ event, targets, leaveTargets, newIndex, oldIndex, tableKey: key });
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
          facts.set(key, { visible: new Map(), undecided: new Map(), columns: new Map(), rlsEnabled: true, failed: true });
          for (const change of matched) {
            if (change.tableKey !== key) continue;
            for (const channel of [...change.targets.channels.keys(), ...change.leaveTargets.channels.keys()]) if (!missed.has(channel)) missed.set(channel, 'check_failed');
          }
        }
      }),
    );

    // Filters PostgreSQL evaluates run only over rows their subscriber may see (never an oracle on a
    // hidden row, not even through how long they take), per subscriber group. Channels without such
    // a filter in this batch don't wait for them.
    const waitsForSql = new Set<JoinedChannel>();
    const sql = planSqlFilters(matched, facts, waitsForSql);
    const verdicts = evaluateSqlFilters(lookup, sql, missed);
    const deliverAll = (include: (channel: JoinedChannel) => boolean, passed: SqlVerdicts) => {
      for (const [index, change] of matched.entries()) {
        if (change.event.type === 'TRUNCATE') {
          for (const channel of change.targets.channels.keys()) if (include(channel) && lookup.has(channel)) options.onTruncate?.(channel, change.event);
          continue;
        }
        const tableFacts = facts.get(change.tableKey)!;
        if (tableFacts.failed) continue;
        try {
          deliver(lookup, change, index, tableFacts, missed, include, passed);
        } catch (error) {
          // A bug of ours with this change must not cost the rest of the batch.
          onError(error);
        }
      }
    };
    deliverAll((channel) => !waitsForSql.has(channel), NO_VERDICTS);
    if (waitsForSql.size === 0) return;
    const passed = await verdicts;
    deliverAll((channel) => waitsForSql.has(channel), passed);
  }

  /** Sends one change to every group it reaches (among channels `include` accepts), as that group may see it. */
  function deliver(
    lookup: SubscriberLookup,
    change: MatchedChange,
    changeIndex: number,
    facts: TableFacts,
    missed: Map<JoinedChannel, MissedReason>,
    include: (channel: JoinedChannel) => boolean,
    passed: SqlVerdicts,
  ): void {
    const { event } = change;
    const key = event.primaryKey;
    const dataTexts = new Map<string, string>();
    const frames = new Map<string, FanoutFrames>();
    const emit = (entries: ReadonlyArray<[JoinedChannel, Target]>, group: SubscriberGroup, what: Visible | 'withheld', keyFiltersOnly: boolean) => {
      for (const [channel, target] of entries) {
        if (!include(channel) || !lookup.has(channel)) continue;
        // Its token was refreshed while the checks ran: what it may see wasn't checked. Refetch.
        if (finder.groupOf(channel).groupKey !== group.groupKey) {
          if (!missed.has(channel)) missed.set(channel, 'visibility_unknown');
          continue;
        }
        let ids = target.ids;
        if ((keyFiltersOnly && target.keyOnly.includes(false)) || target.sql.some((filter) => filter !== null)) {
          ids = ids.filter((_, index) => {
            if (keyFiltersOnly && !target.keyOnly[index]) return false;
            const filter = target.sql[index];
            return filter === null || filter === undefined || passed.get(sqlJobKey(filter, group))?.has(changeIndex) === true;
          });
        }
        if (ids.length === 0) continue;
        let dataKey: string;
        let dataText: string | undefined;
        if (what === 'withheld') {
          dataKey = 'withheld';
          dataText = dataTexts.get(dataKey);
          if (dataText === undefined) dataTexts.set(dataKey, (dataText = withheldJson(event, UNAUTHORIZED_ERROR)));
        } else {
          let visible = what;
          if (target.select !== null && what.type !== 'LEAVE') {
            const select = target.select;
            const keep = (column: string) => select.has(column) || key.includes(column);
            visible = { type: what.type, columns: what.columns.filter(keep), oldColumns: what.oldColumns.filter(keep) };
          }
          dataKey = `${visible.type}\u0001${visible.columns.join('\u0000')}\u0001${visible.oldColumns.join('\u0000')}`;
          dataText = dataTexts.get(dataKey);
          if (dataText === undefined) dataTexts.set(dataKey, (dataText = dataJson(event, visible, maxRecordBytes)));
        }
        const frameKey = `${channel.topic}\u0001${ids.length === 1 ? ids[0] : ids.join(',')}\u0001${dataKey}`;
        let frame = frames.get(frameKey);
        if (!frame) {
          const payload = `{"ids":${JSON.stringify(ids)},"data":${dataText},"position":${JSON.stringify(event.position)}}`;
          frames.set(frameKey, (frame = encodeFanout(channel.topic, EVENT.postgresChanges, rawJson(payload))));
        }
        const bytes = frame.frameFor(channel.peer.vsn);
        if (bytes !== null) channel.peer.sendFrame(bytes);
      }
    };
    const resync = (entries: ReadonlyArray<[JoinedChannel, Target]>) => {
      for (const [channel] of entries) if (include(channel) && !missed.has(channel)) missed.set(channel, 'visibility_unknown');
    };
    // Most changes have no leave targets: no map to build for them.
    const leaveGroups = change.leaveTargets.byGroup.length === 0 ? NO_LEAVE_GROUPS : new Map(change.leaveTargets.byGroup.map((targets) => [targets.group.groupKey, targets]));

    for (const { group, entries } of change.targets.byGroup) {
      const leaveEntries = leaveGroups.get(group.groupKey)?.entries;
      leaveGroups.delete(group.groupKey);
      const columns = facts.columns.get(group.role) ?? [];
      if (columns.length === 0) continue; // no privilege on the table at all (any more)
      const readsKey = key.every((column) => columns.includes(column));
      const keyColumns = key.filter((column) => columns.includes(column));
      if (event.type === 'DELETE') {
        const old = visibilityOf(facts, group, change.oldIndex);
        const hiddenOld = old !== 'visible' && facts.rlsEnabled;
        // Whether its filters on other columns than the key would match can't be told: refetch.
        if (old === 'unknown' && change.oldIndex >= 0 && facts.rlsEnabled) resync(entries.filter(([, target]) => target.keyOnly.includes(false)));
        emit(entries, group, readsKey ? { type: 'DELETE', columns, oldColumns: hiddenOld ? keyColumns : columns } : 'withheld', hiddenOld);
        continue;
      }
      const seen = visibilityOf(facts, group, change.newIndex);
      if (seen === 'unknown') {
        resync(entries);
        continue;
      }
      if (seen === 'hidden') {
        if (event.type === 'UPDATE') leave(group, leaveEntries);
        continue;
      }
      if (!readsKey) {
        // Supabase's answer to a role that may not read the row's key: the change, withheld, with 401.
        emit(entries, group, 'withheld', false);
        continue;
      }
      const oldColumns = event.type === 'UPDATE' && visibilityOf(facts, group, change.oldIndex) === 'visible' ? columns : keyColumns;
      emit(entries, group, { type: event.type as DeliveredType, columns, oldColumns }, false);
    }
    // Groups that only asked for leave events (their bindings matched the old row, not the new one).
    for (const { group, entries } of leaveGroups.values()) {
      const seen = visibilityOf(facts, group, change.newIndex);
      if (seen === 'hidden') leave(group, entries);
      else if (seen === 'unknown') resync(entries);
    }

    /** LEAVE to `entries` when the old row was visible, or may have been. */
    function leave(group: SubscriberGroup, entries: ReadonlyArray<[JoinedChannel, Target]> | undefined): void {
      if (!entries || !facts.rlsEnabled) return;
      const old = visibilityOf(facts, group, change.oldIndex);
      if (old === 'hidden') return;
      const columns = facts.columns.get(group.role) ?? [];
      if (!key.every((column) => columns.includes(column))) return; // it can't be told which row left
      emit(entries, group, { type: 'LEAVE', columns: key, oldColumns: key }, old !== 'visible');
    }
  }

  /**
   * The SQL filter work of a batch: per (filter, subscriber group), the changes to evaluate it on,
   * each with the row image the group may see (the new row when visible; a DELETE's old row when
   * visible, or its key alone for a filter on key columns). Rows the group may not see are never
   * sent to PostgreSQL for its filters. `waits` collects the channels that have such a filter.
   */
  function planSqlFilters(matched: readonly MatchedChange[], facts: ReadonlyMap<string, TableFacts>, waits: Set<JoinedChannel>): Map<string, SqlJob> {
    const jobs = new Map<string, SqlJob>();
    for (const [changeIndex, change] of matched.entries()) {
      if (change.event.type === 'TRUNCATE') continue;
      const tableFacts = facts.get(change.tableKey)!;
      if (tableFacts.failed) continue;
      for (const { group, entries } of change.targets.byGroup) {
        for (const [channel, target] of entries) {
          if (!target.sql.some((filter) => filter !== null)) continue;
          waits.add(channel);
          target.sql.forEach((filter, index) => {
            if (filter === null || filter === undefined) return;
            const row = visibleImage(change, tableFacts, group, target.keyOnly[index]!);
            if (row === undefined) return;
            const jobKey = sqlJobKey(filter, group);
            let job = jobs.get(jobKey);
            if (!job) jobs.set(jobKey, (job = { filter, channels: new Set(), rows: [], changeIndexes: [] }));
            job.channels.add(channel);
            if (job.changeIndexes[job.changeIndexes.length - 1] === changeIndex) return;
            job.rows.push(row);
            job.changeIndexes.push(changeIndex);
          });
        }
      }
    }
    return jobs;
  }

  /**
   * Runs each job in chunks whose queries are each bounded by the filter time limit; resolves, per
   * job, the indexes of the changes that pass. A filter that runs out of time is refused for its
   * subscribers; any other failure is reported and its channels are told to resync.
   */
  async function evaluateSqlFilters(lookup: SubscriberLookup, jobs: ReadonlyMap<string, SqlJob>, missed: Map<JoinedChannel, MissedReason>): Promise<SqlVerdicts> {
    const passed = new Map<string, Set<number>>();
    await Promise.all(
      [...jobs].map(async ([key, job]) => {
        const passing = new Set<number>();
        passed.set(key, passing);
        try {
          for (let start = 0; start < job.rows.length; start += SQL_FILTER_CHUNK) {
            const rows = await job.filter.evaluate(job.rows.slice(start, start + SQL_FILTER_CHUNK));
            for (const index of rows) passing.add(job.changeIndexes[start + index]!);
          }
        } catch (error) {
          passing.clear();
          if (error instanceof FilterTimeoutError) {
            for (const channel of job.channels) if (lookup.has(channel)) options.onFilterRefused?.(channel, job.filter, error);
            return;
          }
          onError(error);
          job.failed = true;
        }
      }),
    );
    for (const job of jobs.values()) if (job.failed) for (const channel of job.channels) missed.set(channel, 'filter_failed');
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
        try {
          await dispatch(registry, events);
        } finally {
          completedPosition = position;
        }
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
      completedPosition = value;
    },
    get completedPosition() {
      return completedPosition;
    },
    idle: async () => {
      while (running) await running;
    },
  };
}

/** The old row image has columns besides the key (REPLICA IDENTITY FULL), so its visibility matters. */
function hasMoreThanKey(event: ChangeEvent): boolean {
  const old = event.oldRecordText;
  if (!old) return false;
  for (const column in old) if (!event.primaryKey.includes(column)) return true;
  return false;
}
