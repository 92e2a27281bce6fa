import { WebSocket } from 'ws';
import { createPhoenixSocket, socketUrl, type PhoenixSocketOptions, type WebSocketConstructor } from '../../../lib/sync/phoenix/index.js';

const base: PhoenixSocketOptions = { url: 'ws://localhost:4000/realtime/v1', params: { apikey: 'k' }, WebSocket: WebSocket as unknown as WebSocketConstructor, onEvent: () => undefined };

describe('socketUrl', () => {
  it('appends /websocket, the params and vsn, like phoenix.js endPointURL', () => {
    expect(socketUrl('ws://h:1/realtime/v1', { apikey: 'a b', log_level: 'info' }, '2.0.0')).toBe('ws://h:1/realtime/v1/websocket?apikey=a+b&log_level=info&vsn=2.0.0');
    expect(socketUrl('ws://h:1/socket/', {}, '1.0.0')).toBe('ws://h:1/socket/websocket?vsn=1.0.0');
    expect(socketUrl('https://x.supabase.co/realtime/v1/websocket', {}, '2.0.0')).toBe('wss://x.supabase.co/realtime/v1/websocket?vsn=2.0.0');
  });
  it('refuses what is not a URL or not a WebSocket/HTTP URL', () => {
    expect(() => socketUrl('localhost:4000', {}, '2.0.0')).toThrow(/ws, wss, http or https/);
    expect(() => socketUrl('not a url', {}, '2.0.0')).toThrow(/absolute URL/);
  });
});

describe('createPhoenixSocket options', () => {
  it('defaults to vsn 2.0.0 and starts closed', () => {
    const socket = createPhoenixSocket(base);
    expect(socket.state).toBe('closed');
    expect(socket.channelState('realtime:x')).toBe('closed');
  });
  it.each<[string, Partial<PhoenixSocketOptions>, RegExp]>([
    ['vsn', { vsn: '3.0.0' as never }, /vsn must be 1.0.0 or 2.0.0/],
    ['WebSocket', { WebSocket: undefined as never }, /WebSocket must be a WebSocket class/],
    ['onEvent', { onEvent: 'x' as never }, /onEvent must be a function/],
    ['params', { params: { apikey: 1 } as never }, /params must map names to strings/],
    ['heartbeatIntervalMs', { heartbeatIntervalMs: 0 }, /heartbeatIntervalMs must be a positive number/],
    ['timeoutMs', { timeoutMs: Number.NaN }, /timeoutMs must be a positive number/],
    ['reconnect', { reconnect: { factor: 0 } }, /reconnect: factor must be at least 1/],
    ['rejoin', { rejoin: { minDelayMs: 10, maxDelayMs: 5 } }, /rejoin: minDelayMs/],
    ['url', { url: 'ftp://x' }, /ws, wss, http or https/],
  ])('refuses a bad %s with a message naming it', (_name, bad, message) => {
    expect(() => createPhoenixSocket({ ...base, ...bad })).toThrow(message);
  });
  it('join and setAuth refuse bad arguments by name', () => {
    const socket = createPhoenixSocket(base);
    expect(() => socket.join('', () => ({}))).toThrow(/topic must be a non-empty string/);
    expect(() => socket.join('phoenix', () => ({}))).toThrow(/other than "phoenix"/);
    expect(() => socket.join('realtime:x', {} as never)).toThrow(/payload must be a function/);
    expect(() => socket.setAuth('')).toThrow(/token must be a non-empty string or null/);
  });
});
