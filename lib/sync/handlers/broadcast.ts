/** Broadcast: sending a channel's broadcasts, and handing received ones to its broadcast listeners. */
import { TOPIC_PREFIX } from '../../protocol/phoenix.js';
import type { HandlerContext, SyncHandler } from './types.js';

export function broadcastHandler(context: HandlerContext): SyncHandler {
  return {
    onAction(action) {
      if (!context.actions.broadcast.match(action)) return undefined;
      const { channel, event, payload } = action.payload;
      // Without `ack` the server never answers a broadcast: resolve once it is sent.
      const ack = context.mirror().channels[channel]?.config.broadcast?.ack === true;
      return context.socket()?.push(TOPIC_PREFIX + channel, 'broadcast', { type: 'broadcast', event, payload }, { awaitReply: ack }) ?? context.notConnected();
    },
    onMessage(channel, event, body) {
      if (event !== 'broadcast') return undefined;
      const eventName = typeof body.event === 'string' ? body.event : '';
      for (const listener of context.listeners(channel)) {
        if (listener.kind === 'broadcast' && (listener.event === eventName || listener.event === '*')) context.safely(() => listener.handler(body.payload));
      }
      return 'record';
    },
  };
}
