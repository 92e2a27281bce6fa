/**
 * Channels: joining a channel when its first subscriber comes and leaving it when the last goes,
 * joining again when its config gained a binding or a setting (or lost one the server refused),
 * each join's payload built from the mirror (joins.ts), and each status the socket reports mirrored
 * with the bindings its join reply confirmed.
 */
import { channelName, TOPIC_PREFIX } from '../../protocol/phoenix.js';
import { createJoins } from '../joins.js';
import type { ChannelListener, HandlerContext, SyncHandler } from './types.js';

export interface ChannelsHandler extends SyncHandler {
  /** The listener `listen` stores: one of a binding takes only the changes of that binding. */
  listenerOf(channel: string, given: ChannelListener): ChannelListener;
}

/** `joinWaitMs`: how long the server may hold a join until its changes are live (joins.ts). */
export function channelsHandler(context: HandlerContext, joinWaitMs: number): ChannelsHandler {
  const { actions } = context;
  const joins = createJoins(context.mirror, context.warn, joinWaitMs);

  /** Joins `name` again with its current config; the join resumes after the last change applied. */
  function rejoin(name: string): void {
    context.flushChanges(); // the position the join resumes after includes every change received
    context.socket()?.rejoin(TOPIC_PREFIX + name);
  }

  return {
    onAction(action, before) {
      if (actions.subscribe.match(action)) {
        const name = action.payload.channel;
        if ((before.channels[name]?.subscribers ?? 0) === 0) {
          if (context.mirror().connection.status === 'idle') context.dispatch(actions.connect());
          context.ensureSocket().join(TOPIC_PREFIX + name, () => joins.joinPayload(name));
        } else if (joins.joinOutdated(name)) {
          rejoin(name);
        }
      } else if (actions.unsubscribe.match(action)) {
        const name = action.payload.channel;
        const after = context.mirror().channels[name];
        if (before.channels[name] && !after) {
          context.socket()?.leave(TOPIC_PREFIX + name);
          joins.forget(name);
        } else if (after?.error != null && joins.joinHoldsReleased(name)) {
          // A binding left the union. The server keeps it until the next join (its changes reach no
          // listener: none has its id), unless the server refused the channel's bindings: then the
          // rest get a fresh chance without it.
          rejoin(name);
        }
      }
      return undefined;
    },
    onSocketEvent(event) {
      if (event.type !== 'channel') return;
      const name = channelName(event.topic);
      if (!context.mirror().channels[name]) return;
      // Changes received under the previous join are delivered under its binding ids.
      if (event.status === 'joined') context.flushChanges();
      context.dispatch(
        actions.channelChanged({
          channel: name,
          status: event.status,
          ...(event.error !== undefined && { error: event.error }),
          ...(event.status === 'joined' && { serverBindings: joins.confirmedBindings(name, event.response) }),
        }),
      );
    },
    listenerOf(channel, given) {
      return given.kind === 'postgres_changes' && given.binding ? joins.ofBinding(channel, given.binding, given.handler) : given;
    },
  };
}
