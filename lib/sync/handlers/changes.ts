/**
 * Row changes: postgres_changes received in one tick are batched per channel (duplicates a rejoin
 * replays dropped by position) and flushed in one dispatch for every channel and every live entry
 * they touched, then handed to the channels' listeners; the server's postgres_changes notices
 * (live, resync, error) are mirrored, in order after the changes that came before them, and passed
 * to the live entries.
 */
import type { LivePatch } from '../../api/liveContract.js';
import { toChange, type RealtimeChange } from '../changes.js';
import type { LiveQueries } from './live.js';
import type { HandlerContext, SyncHandler } from './types.js';

export interface ChangesHandler extends SyncHandler {
  /** Delivers every change received so far. */
  flush(): void;
}

/** `live`: the live entries and where their api lives, when the middleware has an api. */
export function changesHandler(context: HandlerContext, live?: { queries: LiveQueries; apiPath: string }): ChangesHandler {
  const { actions } = context;
  /** postgres_changes received this tick, per channel; flushed in one dispatch each. */
  let pending = new Map<string, RealtimeChange[]>();
  let flushQueued = false;

  /**
   * The changes that arrived together, on every channel: one dispatch for all of them (every live
   * entry they touched patched, every channel's position advanced), then their listeners.
   */
  function flush(): void {
    flushQueued = false;
    if (pending.size === 0) return;
    const batches = pending;
    pending = new Map();
    const positions: Array<{ channel: string; position: string }> = [];
    for (const [name, changes] of batches) {
      context.changesReceived(name, changes);
      if (live) context.safely(() => live.queries.onChanges(name, changes));
      const position = changes[changes.length - 1]!.position;
      if (position) positions.push({ channel: name, position });
    }
    const commit = (entries: LivePatch[]) => {
      if (entries.length > 0 || positions.length > 0) context.dispatch(actions.changesApplied({ positions, entries, at: context.now() }, entries.length > 0 ? live?.apiPath : undefined));
    };
    if (live) live.queries.flush(commit);
    else commit([]);
    for (const [name, batch] of batches) {
      const listeners = context.listeners(name);
      if (listeners.size === 0) continue;
      // Listeners keep Supabase's semantics: LEAVE signals are for live entries only.
      const changes = batch.some((change) => change.leave) ? batch.filter((change) => !change.leave) : batch;
      if (changes.length === 0) continue;
      for (const listener of listeners) if (listener.kind === 'postgres_changes') context.safely(() => listener.handler(changes));
    }
  }

  function receive(name: string, body: Record<string, unknown>): void {
    const channel = context.mirror().channels[name]!;
    const change = toChange(body);
    if (!change) return context.warn(`[rtk-postgrest sync] malformed postgres_changes on ${JSON.stringify(name)}: ignored`);
    // A server sends LEAVE only where the join asked for it: elsewhere its listeners must not read it as a DELETE.
    if (change.leave && channel.config.leaveEvents !== true) return context.warn(`[rtk-postgrest sync] LEAVE on ${JSON.stringify(name)}, whose join did not ask for leave_events: ignored`);
    const list = pending.get(name) ?? [];
    // Positions increase along the stream: one not above the last received is a change the
    // previous join was still sending when a rejoin (new binding) asked to resume before it.
    const received = lastPosition(list) ?? channel.position;
    if (change.position !== null && received !== null && change.position <= received) return;
    list.push(change);
    pending.set(name, list);
    if (!flushQueued) {
      flushQueued = true;
      queueMicrotask(flush);
    }
  }

  /** A `system` message of the postgres_changes extension; false for one this handler does not act on. */
  function notice(name: string, body: Record<string, unknown>): boolean {
    flush(); // notices are ordered after the changes that came before them
    const position = typeof body.position === 'string' ? body.position : null;
    if (body.resync === true) {
      context.dispatch(
        actions.resyncRequested({
          channel: name,
          reason: String(body.reason ?? 'unknown'),
          position,
          ...(typeof body.schema === 'string' && { schema: body.schema }),
          ...(typeof body.table === 'string' && { table: body.table }),
        }),
      );
      live?.queries.onResync(name);
      return true;
    }
    if (body.status === 'ok' && body.message === 'Subscribed to PostgreSQL') {
      context.dispatch(actions.changesLive({ channel: name, live: true, position, at: context.now() }));
      live?.queries.onLive(name, body.resumed === true, body.tables);
      return true;
    }
    if (body.status === 'error') {
      const status = context.mirror().channels[name]!.status;
      context.dispatch(actions.channelChanged({ channel: name, status, error: String(body.message ?? 'postgres_changes error') }));
      return true;
    }
    return false;
  }

  return {
    flush,
    onMessage(channel, event, body) {
      if (event === 'postgres_changes') {
        receive(channel, body);
        return 'handled';
      }
      if (event === 'system' && body.extension === 'postgres_changes' && notice(channel, body)) return 'handled';
      // Other system messages are recorded (DevTools shows them); nothing here acts on them.
      return event === 'system' ? 'record' : undefined;
    },
  };
}

/** The position of the last change in `changes` that has one. */
function lastPosition(changes: readonly RealtimeChange[]): string | null {
  for (let i = changes.length - 1; i >= 0; i -= 1) {
    const position = changes[i]!.position;
    if (position !== null) return position;
  }
  return null;
}
