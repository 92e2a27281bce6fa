/**
 * The connection and channel lifecycles as pure state machines `(state, event) → state`. Each table
 * is a `Record<State, Record<Event, State>>`, so the compiler rejects a missing state × event pair;
 * events that make no sense in a state leave it unchanged (stale timers and replies are expected).
 * The socket performs the side effects of a transition, keyed by (from, to, event).
 */

export const CONNECTION_STATES = ['closed', 'connecting', 'open', 'reconnecting'] as const;
export type ConnectionState = (typeof CONNECTION_STATES)[number];

export const CONNECTION_EVENTS = [
  /** The user asked to connect. */
  'connect',
  /** The WebSocket opened. */
  'opened',
  /** The WebSocket closed or failed without the user asking. */
  'dropped',
  /** No heartbeat reply arrived before the next beat: the connection is dead. */
  'heartbeatTimeout',
  /** The reconnect delay elapsed. */
  'retry',
  /** The user asked to disconnect. */
  'disconnect',
] as const;
export type ConnectionEvent = (typeof CONNECTION_EVENTS)[number];

export const CONNECTION_TABLE: Record<ConnectionState, Record<ConnectionEvent, ConnectionState>> = {
  closed: { connect: 'connecting', opened: 'closed', dropped: 'closed', heartbeatTimeout: 'closed', retry: 'closed', disconnect: 'closed' },
  connecting: { connect: 'connecting', opened: 'open', dropped: 'reconnecting', heartbeatTimeout: 'connecting', retry: 'connecting', disconnect: 'closed' },
  open: { connect: 'open', opened: 'open', dropped: 'reconnecting', heartbeatTimeout: 'reconnecting', retry: 'open', disconnect: 'closed' },
  // A user's connect() while waiting skips the rest of the delay.
  reconnecting: { connect: 'connecting', opened: 'reconnecting', dropped: 'reconnecting', heartbeatTimeout: 'reconnecting', retry: 'connecting', disconnect: 'closed' },
};

/** The connection state after `event`. */
export function connectionTransition(state: ConnectionState, event: ConnectionEvent): ConnectionState {
  return CONNECTION_TABLE[state][event];
}

export const CHANNEL_STATES = ['closed', 'joining', 'joined', 'leaving', 'errored'] as const;
export type ChannelState = (typeof CHANNEL_STATES)[number];

export const CHANNEL_EVENTS = [
  /** The user asked to join. */
  'join',
  /** The server answered the current join with ok. */
  'joinOk',
  /** The server answered the current join with error. */
  'joinError',
  /** The current join got no reply within the timeout. */
  'joinTimeout',
  /** The server sent phx_error: the channel crashed. */
  'serverError',
  /** The server sent phx_close: the channel ended for good. */
  'serverClose',
  /** The connection dropped or was disconnected. */
  'socketClosed',
  /** The connection (re)opened. */
  'socketOpened',
  /** The rejoin delay elapsed. */
  'rejoin',
  /** The user asked to leave. */
  'leave',
  /** The leave was answered (ok, error) or timed out. */
  'leaveDone',
  /** The user changed the join payload of a joined (or joining) channel: it joins again with the new one. */
  'reconfigure',
] as const;
export type ChannelEvent = (typeof CHANNEL_EVENTS)[number];

export const CHANNEL_TABLE: Record<ChannelState, Record<ChannelEvent, ChannelState>> = {
  closed: {
    join: 'joining', joinOk: 'closed', joinError: 'closed', joinTimeout: 'closed', serverError: 'closed', serverClose: 'closed',
    socketClosed: 'closed', socketOpened: 'closed', rejoin: 'closed', leave: 'closed', leaveDone: 'closed', reconfigure: 'closed',
  },
  joining: {
    join: 'joining', joinOk: 'joined', joinError: 'errored', joinTimeout: 'errored', serverError: 'errored', serverClose: 'closed',
    // Still waiting for the socket: a join pending while disconnected is sent when it opens.
    socketClosed: 'joining', socketOpened: 'joining', rejoin: 'joining', leave: 'leaving', leaveDone: 'joining', reconfigure: 'joining',
  },
  joined: {
    join: 'joined', joinOk: 'joined', joinError: 'joined', joinTimeout: 'joined', serverError: 'errored', serverClose: 'closed',
    socketClosed: 'errored', socketOpened: 'joined', rejoin: 'joined', leave: 'leaving', leaveDone: 'joined', reconfigure: 'joining',
  },
  leaving: {
    join: 'joining', joinOk: 'leaving', joinError: 'leaving', joinTimeout: 'leaving', serverError: 'closed', serverClose: 'closed',
    socketClosed: 'closed', socketOpened: 'leaving', rejoin: 'leaving', leave: 'leaving', leaveDone: 'closed', reconfigure: 'leaving',
  },
  errored: {
    join: 'joining', joinOk: 'errored', joinError: 'errored', joinTimeout: 'errored', serverError: 'errored', serverClose: 'closed',
    socketClosed: 'errored', socketOpened: 'joining', rejoin: 'joining', leave: 'closed', leaveDone: 'errored', reconfigure: 'errored',
  },
};

/** The channel state after `event`. */
export function channelTransition(state: ChannelState, event: ChannelEvent): ChannelState {
  return CHANNEL_TABLE[state][event];
}
