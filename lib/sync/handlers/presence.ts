/**
 * Presence: the only place that tracks and untracks, and that tracks again what the mirror says is
 * tracked whenever a channel joins (a rejoin starts with no presence of ours); Phoenix presence
 * sessions per channel, with diffs held until the current join's state arrived.
 */
import { channelName, TOPIC_PREFIX } from '../../protocol/phoenix.js';
import { emptyPresenceSession, metasByKey, receivePresenceDiff, receivePresenceState, type PresenceDiff, type PresenceSession, type PresenceState } from '../phoenix/presence.js';
import type { HandlerContext, SyncHandler } from './types.js';

export function presenceHandler(context: HandlerContext): SyncHandler {
  const sessions = new Map<string, PresenceSession>();
  const push = (channel: string, payload: object) => context.socket()?.push(TOPIC_PREFIX + channel, 'presence', payload) ?? context.notConnected();
  return {
    onAction(action) {
      const { actions } = context;
      if (actions.track.match(action)) return push(action.payload.channel, { type: 'presence', event: 'track', payload: action.payload.state });
      if (actions.untrack.match(action)) return push(action.payload.channel, { type: 'presence', event: 'untrack' });
      // Left and forgotten: the next join starts a new session.
      if (actions.unsubscribe.match(action) && !context.mirror().channels[action.payload.channel]) sessions.delete(action.payload.channel);
      return undefined;
    },
    onSocketEvent(event) {
      if (event.type !== 'channel' || event.status !== 'joined') return;
      const tracked = context.mirror().channels[channelName(event.topic)]?.tracked;
      if (tracked) void push(channelName(event.topic), { type: 'presence', event: 'track', payload: tracked });
    },
    onMessage(channel, event, body, joinRef) {
      if (event === 'presence_state') {
        if (joinRef === null) return 'record';
        const session = receivePresenceState(sessions.get(channel) ?? emptyPresenceSession, joinRef, body as unknown as PresenceState);
        sessions.set(channel, session);
        context.dispatch(context.actions.presenceSynced({ channel, state: metasByKey(session.state) }));
        return 'handled';
      }
      if (event === 'presence_diff') {
        const before = sessions.get(channel) ?? emptyPresenceSession;
        const session = receivePresenceDiff(before, joinRef, body as unknown as PresenceDiff);
        sessions.set(channel, session);
        if (session.state !== before.state) context.dispatch(context.actions.presenceSynced({ channel, state: metasByKey(session.state) }));
        return 'handled';
      }
      return undefined;
    },
  };
}
