/**
 * A handler of the sync middleware: one concern (connection, channels, changes, live entries,
 * presence, broadcast) that the composition root (middleware.ts) runs after the reducer saw an
 * action, and on socket events. Handlers never import each other; what they share is the context
 * (and what the root hands one handler of another, e.g. the live entries to the changes handler).
 */
import type { MiddlewareAPI, UnknownAction } from '@reduxjs/toolkit';
import type { PhoenixSocket, PushResult, SocketEvent, Timers } from '../phoenix/types.js';
import type { RealtimeChange } from '../changes.js';
import type { PostgresChangesBinding, SyncActions, SyncState } from '../slice.js';

export type ChannelListener =
  /**
   * With `binding`, only the changes the server says matched it (their `ids` hold the id the join
   * reply gave the equal server binding), from when a join holding it went live; without, every
   * change of the channel (also what a rejoin for an added binding replays of that binding's
   * changes since the channel's last position).
   */
  | { kind: 'postgres_changes'; binding?: PostgresChangesBinding; handler: (changes: RealtimeChange[]) => void }
  | { kind: 'broadcast'; event: string; handler: (payload: unknown) => void };

/** What the root gives every handler. */
export interface HandlerContext {
  actions: SyncActions;
  dispatch(action: UnknownAction): unknown;
  /** The store's whole state (for the api's cache entries). */
  getState(): unknown;
  /** The mirror as it is now. */
  mirror(): SyncState;
  /** The socket, once the first connect or subscribe made it. */
  socket(): PhoenixSocket | undefined;
  /** The socket, made now if it does not exist yet. */
  ensureSocket(): PhoenixSocket;
  /** Delivers the changes received so far (before a rejoin or a new join's bindings replace the old). */
  flushChanges(): void;
  /** Tells every handler (`onChanges`) the changes of one channel that arrived together, before they are applied. */
  changesReceived(channel: string, changes: readonly RealtimeChange[]): void;
  /** The listeners of a channel (useRealtime, useBroadcast ...). */
  listeners(channel: string): ReadonlySet<ChannelListener>;
  /** Runs a listener; a throw becomes a warning. */
  safely(run: () => void): void;
  /** What a push resolves with before any socket exists. */
  notConnected(): Promise<PushResult>;
  warn(message: string): void;
  now(): number;
  timers: Timers;
}

/** How a handler answered a server message on a channel. */
export type MessageOutcome =
  /** Not this handler's. */
  | undefined
  /** Handled; also recorded as `messageReceived` (DevTools shows it). */
  | 'record'
  /** Handled; its own action already shows it (or it was dropped with a warning). */
  | 'handled';

/** The socket events besides messages (those go to `onMessage`). */
export type SocketNotice = Exclude<SocketEvent, { type: 'message' }>;

export interface SyncHandler {
  /** The middleware got its store (before any action). */
  onStart?(store: MiddlewareAPI): void;
  /**
   * Any action, before the reducer sees it: the action to pass on instead (the same one, or a copy
   * with another payload). Only the optimistic layer needs this: what the server sends an entry goes
   * beneath its pending writes.
   */
  transform?(action: UnknownAction): UnknownAction;
  /**
   * Any action (the app's, RTK Query's, other instances'), after the reducer ran, before
   * `onAction`; a value returned is what `dispatch` returns, and ends the round.
   */
  onAnyAction?(action: UnknownAction, downstream: unknown): unknown;
  /**
   * One of this instance's actions, after the reducer ran (`before`: the mirror as it was before);
   * a value returned is what `dispatch` returns (a push's promise), and ends the round.
   */
  onAction?(action: UnknownAction, before: SyncState): unknown;
  /** The socket's status, a channel's status, a heartbeat, a protocol error. */
  onSocketEvent?(event: SocketNotice): void;
  /** The changes of one channel that arrived together, before the live entries apply them. */
  onChanges?(channel: string, changes: readonly RealtimeChange[]): void;
  /** A server push on a subscribed channel. */
  onMessage?(channel: string, event: string, body: Record<string, unknown>, joinRef: string | null): MessageOutcome;
}
