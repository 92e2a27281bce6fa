/**
 * Committed changes → `postgres_changes` messages. Per batch: match each change against the
 * subscriptions of its table (event and filter), ask the visibility checker once per table for all
 * subscriber groups and rows, strip columns each role can't SELECT, and send one message per
 * channel per change, in stream order. A change's `data` is serialized once per column set and its
 * frame once per (topic, ids, column set, vsn).
 */
import { encodeFanout, rawJson, type FanoutFrames } from '../codec.js';
import { subscriberGroupKey, type KeyRow, type KeyedTable, type SubscriberGroup, type VisibilityChecker } from '../authorization/index.js';
import { EVENT } from '../messages.js';
import type { ChangeEvent } from '../replication/index.js';
import type { JoinedChannel } from '../rooms.js';
import type { Subscription, SubscriptionRegistry } from './subscriptions.js';

export interface ChangeDispatcher {
  /** Queues a batch; batches are dispatched one after another, in order. */
  enqueue(events: readonly ChangeEvent[]): void;
  /** Resolves once everything queued so far was sent. */
  idle(): Promise<void>;
}

export interface DispatcherOptions {
  registry: SubscriptionRegistry;
  checker: VisibilityChecker;
  onError?: (error: unknown) => void;
}

interface MatchedChange {
  event: ChangeEvent;
  /** Matching binding ids per channel. */
  targets: Map<JoinedChannel, number[]>;
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
}

/** Creates the dispatcher; see the module notes. */
export function createChangeDispatcher(options: DispatcherOptions): ChangeDispatcher {
  const { registry, checker } = options;
  const onError = options.onError ?? ((error: unknown) => console.warn(`[realtime postgres_changes] ${(error as Error)?.message ?? String(error)}`));
  const groupKeys = new WeakMap<object, string>();
  let queue: Promise<void> = Promise.resolve();

  const groupOf = (channel: JoinedChannel): SubscriberGroup => {
    let key = groupKeys.get(channel.claims);
    if (key === undefined) groupKeys.set(channel.claims, (key = subscriberGroupKey(channel.claims)));
    return { groupKey: key, role: String(channel.claims.role), claims: channel.claims as Record<string, unknown> };
  };

  async function dispatch(events: readonly ChangeEvent[]): Promise<void> {
    const matched: MatchedChange[] = [];
    const tables = new Map<string, TableBatch>();
    for (const event of events) {
      const targets = match(event, registry.forTable(event.schema, event.table));
      if (targets.size === 0) continue;
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
      for (const channel of targets.keys()) {
        const group = groupOf(channel);
        if (rowIndex >= 0) batch.groups.set(group.groupKey, group);
        batch.roles.add(group.role);
      }
      matched.push({ event, targets, rowIndex });
    }
    if (matched.length === 0) return;

    const facts = new Map<string, TableFacts>();
    await Promise.all(
      [...tables].map(async ([key, batch]) => {
        const roles = [...batch.roles];
        const [visible, columns, rlsEnabled] = await Promise.all([
          batch.rows.length > 0 ? checker.checkVisible(batch.table, [...batch.groups.values()], batch.rows) : Promise.resolve(new Map<string, ReadonlySet<number>>()),
          Promise.all(roles.map(async (role) => [role, await checker.visibleColumns(batch.table, role).catch(() => [] as string[])] as const)),
          batch.hasDelete ? checker.isRlsEnabled(batch.table) : Promise.resolve(false),
        ]);
        facts.set(key, { visible, columns: new Map(columns), rlsEnabled });
      }),
    );

    for (const { event, targets, rowIndex } of matched) {
      const tableFacts = facts.get(JSON.stringify([event.schema, event.table]))!;
      const dataTexts = new Map<string, string>();
      const frames = new Map<string, FanoutFrames>();
      for (const [channel, ids] of targets) {
        if (!registry.has(channel)) continue; // left while the checks ran
        const group = groupOf(channel);
        if (rowIndex >= 0 && !tableFacts.visible.get(group.groupKey)?.has(rowIndex)) continue;
        const columns = tableFacts.columns.get(group.role) ?? [];
        if (columns.length === 0) continue;
        const columnsKey = columns.join('\u0000');
        let dataText = dataTexts.get(columnsKey);
        if (dataText === undefined) dataTexts.set(columnsKey, (dataText = JSON.stringify(changeData(event, columns, tableFacts.rlsEnabled))));
        const frameKey = `${channel.topic}\u0001${ids.join(',')}\u0001${columnsKey}`;
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

  return {
    enqueue(events) {
      queue = queue.then(() => dispatch(events)).catch(onError);
    },
    idle: () => queue,
  };
}

/** The matching binding ids of each channel, in binding order. */
function match(event: ChangeEvent, subscriptions: readonly Subscription[]): Map<JoinedChannel, number[]> {
  const targets = new Map<JoinedChannel, number[]>();
  if (subscriptions.length === 0) return targets;
  // Filters see the new row, DELETE's the old one (§2.7).
  const row = event.type === 'DELETE' ? event.oldRecordText : event.recordText;
  for (const subscription of subscriptions) {
    if (subscription.event !== null && subscription.event !== event.type) continue;
    if (subscription.matches !== null && !(row && subscription.matches(row))) continue;
    const ids = targets.get(subscription.channel);
    if (ids) {
      if (!ids.includes(subscription.id)) ids.push(subscription.id);
    } else targets.set(subscription.channel, [subscription.id]);
  }
  return targets;
}

function keyRow(row: Readonly<Record<string, string | null>>, primaryKey: readonly string[]): KeyRow {
  const key: Record<string, string | null> = {};
  for (const column of primaryKey) key[column] = row[column] ?? null;
  return key;
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
