/**
 * Which channels a change reaches, and with which binding ids: each binding's event and filter
 * matched against the change's row, the result grouped by subscriber group (one visibility answer
 * per group). Targets of bindings without a filter depend only on the table and the change type, so
 * they are worked out once per registry version and shared by every change of that type.
 *
 * Two kinds of targets: a change's own (its new row for INSERT and UPDATE, its old row for DELETE)
 * and, for an UPDATE, the channels that asked for leave events (`config.leave_events`) whose
 * bindings match the old row: those that must hear LEAVE if the new row is hidden from them.
 *
 * A binding whose filter PostgreSQL must evaluate matches here on its in-memory part; its id carries
 * the filter, which the dispatcher evaluates later, only over rows the subscriber may see.
 */
import { subscriberGroupKey, type SubscriberGroup } from '../authorization/index.js';
import type { ChangeEvent } from '../replication/index.js';
import type { JoinedChannel } from '../channels/rooms.js';
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

/** What one channel gets of one change. */
export interface Target {
  /** Its matching binding ids, in binding order. */
  ids: number[];
  /** Per id: its binding's filter reads only key columns (or there is none), so it still matches the key alone. */
  keyOnly: boolean[];
  /** Per id: the filter PostgreSQL must still evaluate for it, or null. */
  sql: Array<SqlFilter | null>;
  /** Columns its matching bindings `select` (with the key); null when one of them selects all. */
  select: Set<string> | null;
}

/** The channels of one subscriber group among a change's targets. */
export interface GroupTargets {
  group: SubscriberGroup;
  entries: Array<[JoinedChannel, Target]>;
}

/** A change's targets, also grouped by subscriber group. */
export interface Targets {
  channels: Map<JoinedChannel, Target>;
  byGroup: GroupTargets[];
}

export const NO_TARGETS: Targets = { channels: new Map(), byGroup: [] };

/** Targets of one table's bindings without a filter, per registry version. */
interface StaticTargets {
  version: number;
  /** Bindings with a filter: matched per change. */
  filtered: Subscription[];
  unfiltered: Subscription[];
  leaveFiltered: Subscription[];
  leaveUnfiltered: Subscription[];
  /** Per change type (and `LEAVE`); shared by every change of that type: never mutated. */
  byType: Map<string, Targets>;
}

export interface TargetFinder {
  /** The channels `event` reaches as itself, and their binding ids (SQL filters not evaluated yet). */
  targetsOf(lookup: SubscriberLookup, event: ChangeEvent): Targets;
  /** For an UPDATE: the channels that asked for leave events whose bindings match its old row. */
  leaveTargetsOf(lookup: SubscriberLookup, event: ChangeEvent): Targets;
  /** The channel's subscriber group (one object per claims object). */
  groupOf(channel: JoinedChannel): SubscriberGroup;
}

/** Creates the finder; `onError` hears channels skipped because their claims can't form a group. */
export function createTargetFinder(onError: (error: unknown) => void): TargetFinder {
  const groups = new WeakMap<object, SubscriberGroup>();
  const staticTargets = new WeakMap<SubscriberLookup, Map<string, StaticTargets>>();

  /** One group object per claims object (a token refresh replaces the claims, and so the group). */
  const groupOf = (channel: JoinedChannel): SubscriberGroup => {
    let group = groups.get(channel.claims);
    if (group === undefined) {
      const claims = channel.claims as Record<string, unknown>;
      groups.set(channel.claims, (group = { groupKey: subscriberGroupKey(claims), role: String(claims.role), claims }));
    }
    return group;
  };

  /** `channels` grouped by subscriber group; a channel whose claims can't form one is left out (joins refuse such tokens). */
  function grouped(channels: Map<JoinedChannel, Target>): Targets {
    const byKey = new Map<string, GroupTargets>();
    for (const entry of channels) {
      let group: SubscriberGroup;
      try {
        group = groupOf(entry[0]);
      } catch (error) {
        channels.delete(entry[0]);
        onError(error);
        continue;
      }
      let targets = byKey.get(group.groupKey);
      if (!targets) byKey.set(group.groupKey, (targets = { group, entries: [] }));
      targets.entries.push(entry);
    }
    return { channels, byGroup: [...byKey.values()] };
  }

  function cachedFor(lookup: SubscriberLookup, event: ChangeEvent, version: number): StaticTargets {
    let perTable = staticTargets.get(lookup);
    if (!perTable) staticTargets.set(lookup, (perTable = new Map()));
    const key = `${event.schema}\u0000${event.table}`;
    let cached = perTable.get(key);
    if (!cached || cached.version !== version) {
      if (cached === undefined && perTable.size > 10_000) perTable.clear();
      const subscriptions = lookup.forTable(event.schema, event.table);
      const isFiltered = (subscription: Subscription) => subscription.matches !== null || subscription.sql !== null;
      const leaves = subscriptions.filter(hearsLeaves);
      perTable.set(
        key,
        (cached = {
          version,
          filtered: subscriptions.filter(isFiltered),
          unfiltered: subscriptions.filter((subscription) => !isFiltered(subscription)),
          leaveFiltered: leaves.filter(isFiltered),
          leaveUnfiltered: leaves.filter((subscription) => !isFiltered(subscription)),
          byType: new Map(),
        }),
      );
    }
    return cached;
  }

  /** The shared targets of `unfiltered` plus, when there are any, a copy completed by `filtered`. */
  function combine(cached: StaticTargets, type: string, unfiltered: Subscription[], filtered: Subscription[], matchOne: MatchOne): Targets {
    let shared = cached.byType.get(type);
    if (!shared) cached.byType.set(type, (shared = grouped(match(unfiltered, matchOne))));
    if (filtered.length === 0) return shared;
    // Copies: the shared targets must stay as they are for the next change.
    const channels = new Map<JoinedChannel, Target>();
    for (const [channel, target] of shared.channels) channels.set(channel, { ids: [...target.ids], keyOnly: [...target.keyOnly], sql: [...target.sql], select: target.select && new Set(target.select) });
    return grouped(match(filtered, matchOne, channels));
  }

  return {
    groupOf,
    targetsOf(lookup, event) {
      const row = event.type === 'DELETE' ? event.oldRecordText : event.recordText;
      const matchOne: MatchOne = (subscription) =>
        validForRole(subscription) &&
        (subscription.event === null || subscription.event === event.type) &&
        (subscription.matches === null || (row !== undefined && subscription.matches(row))) &&
        (subscription.sql === null || (row !== undefined && subscription.sql.columns.every((column) => row[column] !== undefined)));
      const version = lookup.version;
      if (version === undefined) return grouped(match(lookup.forTable(event.schema, event.table), matchOne));
      const cached = cachedFor(lookup, event, version);
      return combine(cached, event.type, cached.unfiltered, cached.filtered, matchOne);
    },
    leaveTargetsOf(lookup, event) {
      if (event.type !== 'UPDATE') return NO_TARGETS;
      const row = event.oldRecordText;
      const matchOne: MatchOne = (subscription) => validForRole(subscription) && (subscription.matches === null || (row !== undefined && subscription.matches(row)));
      const version = lookup.version;
      if (version === undefined) {
        const leaves = lookup.forTable(event.schema, event.table).filter(hearsLeaves);
        return leaves.length === 0 ? NO_TARGETS : grouped(match(leaves, matchOne));
      }
      const cached = cachedFor(lookup, event, version);
      if (cached.leaveFiltered.length === 0 && cached.leaveUnfiltered.length === 0) return NO_TARGETS;
      return combine(cached, 'LEAVE', cached.leaveUnfiltered, cached.leaveFiltered, matchOne);
    },
  };
}

type MatchOne = (subscription: Subscription) => boolean;

/** Its channel's token still holds the role it was validated for (a filter on another role's columns would be an oracle). */
const validForRole = (subscription: Subscription) => subscription.role === undefined || subscription.channel.claims.role === subscription.role;

/**
 * A binding that may hear LEAVE: on a channel that asked for leave events, for UPDATEs, and without
 * a filter PostgreSQL evaluates (those are evaluated for the new row only).
 */
const hearsLeaves = (subscription: Subscription) =>
  subscription.channel.config.leaveEvents === true && subscription.event !== 'INSERT' && subscription.event !== 'DELETE' && subscription.sql === null;

/** The matching binding ids of each channel, in binding order. */
function match(subscriptions: readonly Subscription[], matchOne: MatchOne, targets = new Map<JoinedChannel, Target>()): Map<JoinedChannel, Target> {
  for (const subscription of subscriptions) {
    if (!matchOne(subscription)) continue;
    const target = targets.get(subscription.channel);
    if (!target) {
      targets.set(subscription.channel, { ids: [subscription.id], keyOnly: [subscription.keyOnlyFilter], sql: [subscription.sql], select: subscription.select === null ? null : new Set(subscription.select) });
      continue;
    }
    if (!target.ids.includes(subscription.id)) {
      target.ids.push(subscription.id);
      target.keyOnly.push(subscription.keyOnlyFilter);
      target.sql.push(subscription.sql);
    }
    if (subscription.select === null) target.select = null;
    else if (target.select !== null) for (const column of subscription.select) target.select.add(column);
  }
  return targets;
}
