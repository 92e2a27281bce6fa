/**
 * A handler of the sync middleware: one concern (presence, broadcast, ...) that the composition
 * root (middleware.ts) runs after the reducer saw one of its instance's actions, and on socket
 * events. Handlers never import each other; what they share is the context.
 */
import type { UnknownAction } from '@reduxjs/toolkit';
import type { PhoenixSocket, PushResult } from '../phoenix/types.js';
import type { SyncActions, SyncState } from '../slice.js';
import type { ChannelListener } from '../middleware.js';

/** What the root gives every handler. */
export interface HandlerContext {
  actions: SyncActions;
  dispatch(action: UnknownAction): unknown;
  /** The mirror as it is now. */
  mirror(): SyncState;
  /** The socket, once the first connect or subscribe made it. */
  socket(): PhoenixSocket | undefined;
  /** The listeners of a channel (useRealtime, useBroadcast ...). */
  listeners(channel: string): ReadonlySet<ChannelListener>;
  /** Runs a listener; a throw becomes a warning. */
  safely(run: () => void): void;
  /** What a push resolves with before any socket exists. */
  notConnected(): Promise<PushResult>;
}

/** How a handler answered a server message on a channel. */
export type MessageOutcome =
  /** Not this handler's. */
  | undefined
  /** Handled; also recorded as `messageReceived` (DevTools shows it). */
  | 'record'
  /** Handled; its own action already shows it. */
  | 'handled';

export interface SyncHandler {
  /** One of this instance's actions, after the reducer ran; a value returned is what `dispatch` returns (a push's promise). */
  onAction?(action: UnknownAction): Promise<PushResult> | undefined;
  /** A channel's status changed (its `channelChanged` was dispatched). */
  onChannelStatus?(channel: string, status: string): void;
  /** A server push on a subscribed channel. */
  onMessage?(channel: string, event: string, body: Record<string, unknown>, joinRef: string | null): MessageOutcome;
  /** The channel was left and forgotten. */
  onChannelLeft?(channel: string): void;
}
