/**
 * The connection and channel lifecycles as exhaustive tables: every state × event pair is written
 * out here, so a change to a machine must change this file too.
 */
import {
  CHANNEL_EVENTS,
  CHANNEL_STATES,
  CHANNEL_TABLE,
  channelTransition,
  CONNECTION_EVENTS,
  CONNECTION_STATES,
  CONNECTION_TABLE,
  connectionTransition,
  type ChannelEvent,
  type ChannelState,
  type ConnectionEvent,
  type ConnectionState,
} from '../../../lib/sync/phoenix/machines.js';

// Columns: connect, opened, dropped, heartbeatTimeout, retry, disconnect.
const connectionExpected: Record<ConnectionState, ConnectionState[]> = {
  closed: ['connecting', 'closed', 'closed', 'closed', 'closed', 'closed'],
  connecting: ['connecting', 'open', 'reconnecting', 'connecting', 'connecting', 'closed'],
  open: ['open', 'open', 'reconnecting', 'reconnecting', 'open', 'closed'],
  reconnecting: ['connecting', 'reconnecting', 'reconnecting', 'reconnecting', 'connecting', 'closed'],
};

// Columns: join, joinOk, joinError, joinTimeout, serverError, serverClose, socketClosed, socketOpened, rejoin, leave, leaveDone, reconfigure.
const channelExpected: Record<ChannelState, ChannelState[]> = {
  closed: ['joining', 'closed', 'closed', 'closed', 'closed', 'closed', 'closed', 'closed', 'closed', 'closed', 'closed', 'closed'],
  joining: ['joining', 'joined', 'errored', 'errored', 'errored', 'closed', 'joining', 'joining', 'joining', 'leaving', 'joining', 'joining'],
  joined: ['joined', 'joined', 'joined', 'joined', 'errored', 'closed', 'errored', 'joined', 'joined', 'leaving', 'joined', 'joining'],
  leaving: ['joining', 'leaving', 'leaving', 'leaving', 'closed', 'closed', 'closed', 'leaving', 'leaving', 'leaving', 'closed', 'leaving'],
  errored: ['joining', 'errored', 'errored', 'errored', 'errored', 'closed', 'errored', 'joining', 'joining', 'closed', 'errored', 'errored'],
};

const connectionCases = CONNECTION_STATES.flatMap((s) => CONNECTION_EVENTS.map((e, i) => [s, e, connectionExpected[s][i]] as [ConnectionState, ConnectionEvent, ConnectionState]));
const channelCases = CHANNEL_STATES.flatMap((s) => CHANNEL_EVENTS.map((e, i) => [s, e, channelExpected[s][i]] as [ChannelState, ChannelEvent, ChannelState]));

describe('connection machine', () => {
  it('the table covers exactly the declared states and events', () => {
    expect(Object.keys(CONNECTION_TABLE).sort()).toEqual([...CONNECTION_STATES].sort());
    for (const s of CONNECTION_STATES) expect(Object.keys(CONNECTION_TABLE[s]).sort()).toEqual([...CONNECTION_EVENTS].sort());
    expect(connectionCases).toHaveLength(CONNECTION_STATES.length * CONNECTION_EVENTS.length);
    expect(connectionCases.every(([, , to]) => to !== undefined)).toBe(true);
  });
  it.each(connectionCases)('%s + %s → %s', (from, event, to) => {
    expect(connectionTransition(from, event)).toBe(to);
  });
  it('disconnect always ends closed, and only connect leaves closed', () => {
    for (const s of CONNECTION_STATES) expect(connectionTransition(s, 'disconnect')).toBe('closed');
    expect(CONNECTION_EVENTS.filter((e) => connectionTransition('closed', e) !== 'closed')).toEqual(['connect']);
  });
});

describe('channel machine', () => {
  it('the table covers exactly the declared states and events', () => {
    expect(Object.keys(CHANNEL_TABLE).sort()).toEqual([...CHANNEL_STATES].sort());
    for (const s of CHANNEL_STATES) expect(Object.keys(CHANNEL_TABLE[s]).sort()).toEqual([...CHANNEL_EVENTS].sort());
    expect(channelCases.every(([, , to]) => to !== undefined)).toBe(true);
  });
  it.each(channelCases)('%s + %s → %s', (from, event, to) => {
    expect(channelTransition(from, event)).toBe(to);
  });
  it('phx_close always ends closed (closed stays closed), and only join leaves closed', () => {
    for (const s of CHANNEL_STATES) expect(channelTransition(s, 'serverClose')).toBe('closed');
    expect(CHANNEL_EVENTS.filter((e) => channelTransition('closed', e) !== 'closed')).toEqual(['join']);
  });
});
