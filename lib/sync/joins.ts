/**
 * What a channel's joins carry and what their replies say: the join payload built from the mirror
 * (with `resume_after` the last position, `leave_events` for live channels), whether the last join
 * is out of date with the channel's config (a binding or setting added, a binding released), the
 * server's binding ids from a join reply, and listeners that take only the changes of their own
 * binding.
 */
import type { RealtimeChange } from './changes.js';
import type { ChannelListener } from './handlers/types.js';
import { bindingKey, bindingsOf, type ChannelConfig, type PostgresChangesBinding, type SyncState } from './slice.js';

/**
 * `waitMs`: how long the server may hold a join until its postgres_changes are live
 * (`postgres_changes_options: { wait: true, timeout }`); less than the join push's own timeout.
 */
export function createJoins(mirror: () => SyncState, warn: (message: string) => void, waitMs: number) {
  /** What the last join payload built per channel holds: binding keys and the other settings. */
  const sentJoins = new Map<string, { keys: Set<string>; settings: string }>();

  /** The join payload, rebuilt at every (re)join so it resumes from the latest position. */
  function joinPayload(name: string): object {
    const channel = mirror().channels[name];
    const config: ChannelConfig = channel?.config ?? {};
    const presenceEnabled = config.presenceKey !== undefined || channel?.tracked != null;
    sentJoins.set(name, { keys: new Set(bindingsOf(config).map(bindingKey)), settings: settingsOf(config) });
    return {
      config: {
        broadcast: { self: config.broadcast?.self ?? false, ack: config.broadcast?.ack ?? false },
        presence: { key: config.presenceKey ?? '', enabled: presenceEnabled },
        postgres_changes: config.postgresChanges ?? [],
        // The join's `ok` then means live (hosted Supabase too, realtime 2.11x+), so "subscribe, then
        // fetch" has no gap; a binding that can't be live fails the join with the server's reason.
        ...((config.postgresChanges?.length ?? 0) > 0 && { postgres_changes_options: { wait: true, timeout: waitMs } }),
        private: config.private ?? false,
        ...(channel?.position && (config.postgresChanges?.length ?? 0) > 0 && { resume_after: channel.position }),
        // Only on request: other channels keep Supabase's semantics (a row leaving visibility says nothing).
        ...(config.leaveEvents === true && { leave_events: true }),
      },
    };
  }

  /**
   * The channel's config holds a binding (or a setting) its last join did not: the server must hear
   * the new config. A channel whose join was not built yet needs nothing (it is built from the
   * mirror when sent).
   */
  function joinOutdated(name: string): boolean {
    const sent = sentJoins.get(name);
    const config = mirror().channels[name]?.config;
    if (!sent || !config) return false;
    return bindingsOf(config).some((binding) => !sent.keys.has(bindingKey(binding))) || settingsOf(config) !== sent.settings;
  }

  /** The last join of `name` holds a binding its config no longer has. */
  function joinHoldsReleased(name: string): boolean {
    const sent = sentJoins.get(name);
    const config = mirror().channels[name]?.config;
    if (!sent || !config) return false;
    const held = new Set(bindingsOf(config).map(bindingKey));
    return [...sent.keys].some((key) => !held.has(key));
  }

  /** The bindings a join reply confirmed, with their ids; malformed entries are warned about and skipped. */
  function confirmedBindings(name: string, response: unknown): Array<PostgresChangesBinding & { id: number }> {
    const list = response !== null && typeof response === 'object' ? (response as { postgres_changes?: unknown }).postgres_changes : undefined;
    if (list === undefined) return [];
    if (!Array.isArray(list)) {
      warn(`[rtk-postgrest sync] join reply of ${JSON.stringify(name)}: postgres_changes is not a list: ignored`);
      return [];
    }
    const confirmed: Array<PostgresChangesBinding & { id: number }> = [];
    for (const entry of list as unknown[]) {
      const binding = bindingsOf({ postgresChanges: [entry as PostgresChangesBinding] })[0];
      const id = (entry as { id?: unknown } | null)?.id;
      if (binding && typeof id === 'number' && Number.isFinite(id)) confirmed.push({ ...binding, id });
      else warn(`[rtk-postgrest sync] join reply of ${JSON.stringify(name)}: malformed binding ${safeJson(entry)}: ignored`);
    }
    return confirmed;
  }

  /** A listener of one binding: the changes whose ids name the equal server binding, once it is live. */
  function ofBinding(name: string, binding: PostgresChangesBinding, handler: (changes: RealtimeChange[]) => void): ChannelListener {
    const key = bindingKey(binding);
    return {
      kind: 'postgres_changes',
      binding,
      handler: (changes) => {
        const server = mirror().channels[name]?.serverBindings.find((candidate) => bindingKey(candidate) === key);
        if (!server?.live) return;
        const matched = changes.filter((change) => change.ids.includes(server.id) && (binding.event === '*' || binding.event === change.eventType));
        if (matched.length > 0) handler(matched);
      },
    };
  }

  return { joinPayload, joinOutdated, joinHoldsReleased, confirmedBindings, ofBinding, forget: (name: string) => sentJoins.delete(name) };
}

/** A channel's settings besides its bindings as its join payload sends them, as one comparable string. */
function settingsOf(config: ChannelConfig): string {
  return JSON.stringify([config.presenceKey ?? null, config.broadcast?.self ?? false, config.broadcast?.ack ?? false, config.private ?? false, config.leaveEvents === true]);
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
