/**
 * A socket's channels while a join waits for its authorization (postgres_changes checks the token's
 * role in the database): later messages wait in order, bounded in count and bytes, and a socket that
 * closed meanwhile gets nothing joined. A unit test of channels.ts with a fake peer and extension.
 */
import { createSocketChannels, MAX_WAITING_BYTES, type ChannelExtension } from '../../../lib/server/realtime/channels.js';
import type { InboundMessage, PhoenixMessage } from '../../../lib/server/realtime/messages.js';
import { createPresenceTracker } from '../../../lib/server/realtime/presence.js';
import { createPresenceChannels } from '../../../lib/server/realtime/presenceChannel.js';
import { createRooms } from '../../../lib/server/realtime/rooms.js';
import { signJwt } from '../../../lib/server/stack/jwt.js';

const SECRET = 'channels-test-secret-at-least-32-characters';
const token = (claims: Record<string, unknown> = {}) => signJwt(SECRET, { role: 'authenticated', exp: Math.floor(Date.now() / 1000) + 600, ...claims });

function setup() {
  const sent: PhoenixMessage[] = [];
  const joined: string[] = [];
  let release: ((verdict: string | null) => void) | undefined;
  const extension: ChannelExtension = {
    authorize: () => new Promise<string | null>((resolve) => (release = resolve)),
    onJoin: (channel) => joined.push(channel.topic),
  };
  const rooms = createRooms();
  const peer = { id: 'p', vsn: '1.0.0' as const, send: (message: PhoenixMessage) => sent.push(message), sendFrame: () => undefined };
  const channels = createSocketChannels(peer, token(), {
    jwtSecret: SECRET,
    rooms,
    presence: createPresenceChannels(rooms, createPresenceTracker()),
    extensions: [extension],
    maxBindingsPerConnection: 100,
    joinHoldMs: 5000,
    maxJoinWaitMs: 20_000,
  });
  const message = (topic: string, event: string, ref: string, payload: Record<string, unknown> = {}): InboundMessage =>
    ({ topic, event, ref, joinRef: ref, payload }) as InboundMessage;
  return { sent, joined, channels, message, release: (verdict: string | null) => release!(verdict) };
}

const replies = (sent: PhoenixMessage[]) => sent.filter((message) => message.event === 'phx_reply').map((message) => [message.ref, (message.payload as { status: string }).status]);

test('messages after a join wait until it is authorized, then run in order', async () => {
  const { sent, joined, channels, message, release } = setup();
  channels.handle(message('realtime:a', 'phx_join', '1'));
  channels.handle(message('realtime:a', 'broadcast', '2', { type: 'broadcast', event: 'e', payload: {} }), 100);
  channels.handle(message('realtime:b', 'phx_join', '3'), 100);
  expect(replies(sent)).toEqual([]);
  release(null);
  await new Promise((resolve) => setTimeout(resolve, 0));
  // a's join, then its broadcast (not "unmatched topic"), then b's join, which waits in turn.
  expect(replies(sent)).toEqual([['1', 'ok']]);
  expect(joined).toEqual(['realtime:a']);
  release(null);
  await new Promise((resolve) => setTimeout(resolve, 0));
  expect(replies(sent)).toEqual([['1', 'ok'], ['3', 'ok']]);
  expect(joined).toEqual(['realtime:a', 'realtime:b']);
});

test('a refused authorization is the join\'s error reply', async () => {
  const { sent, joined, channels, message, release } = setup();
  channels.handle(message('realtime:a', 'phx_join', '1'));
  release('Unauthorized: no');
  await new Promise((resolve) => setTimeout(resolve, 0));
  expect(sent.find((reply) => reply.ref === '1')?.payload).toEqual({ status: 'error', response: { reason: 'Unauthorized: no' } });
  expect(joined).toEqual([]);
});

test('what waits is bounded in bytes: past it, messages get an error reply naming the bound', async () => {
  const { sent, channels, message, release } = setup();
  channels.handle(message('realtime:a', 'phx_join', '1'));
  const big = Math.ceil(MAX_WAITING_BYTES / 4);
  for (let i = 0; i < 6; i++) channels.handle(message('realtime:a', 'broadcast', `b${i}`, { type: 'broadcast', event: 'e', payload: {} }), big);
  const refused = sent.filter((reply) => (reply.payload as { response?: { reason?: string } }).response?.reason?.startsWith('TooManyMessages'));
  expect(refused.map((reply) => reply.ref)).toEqual(['b4', 'b5']);
  release(null);
  await new Promise((resolve) => setTimeout(resolve, 0));
});

test('a socket that closes while its join is authorized joins nothing', async () => {
  const { sent, joined, channels, message, release } = setup();
  channels.handle(message('realtime:a', 'phx_join', '1'));
  channels.closeAll();
  release(null);
  await new Promise((resolve) => setTimeout(resolve, 0));
  expect(joined).toEqual([]);
  expect(replies(sent)).toEqual([]);
});
