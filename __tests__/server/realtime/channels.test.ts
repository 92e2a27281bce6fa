/**
 * A socket's channels while a join waits for its authorization (postgres_changes checks the token's
 * role in the database): later messages wait in order, bounded in count and bytes, and a socket that
 * closed meanwhile gets nothing joined. A unit test of channels/socketChannels.ts with a fake peer and extension.
 */
import { createSocketChannels, MAX_TOPIC_BYTES, MAX_WAITING_BYTES, type ChannelExtension } from '../../../lib/server/realtime/channels/socketChannels.js';
import type { InboundMessage, PhoenixMessage } from '../../../lib/server/realtime/codec/messages.js';
import { createPresenceTracker } from '../../../lib/server/realtime/presence/tracker.js';
import { createPresenceChannels } from '../../../lib/server/realtime/presence/channel.js';
import { createRooms, type JoinedChannel } from '../../../lib/server/realtime/channels/rooms.js';
import { signJwt } from '../../../lib/server/stack/jwt.js';

const SECRET = 'channels-test-secret-at-least-32-characters';
const token = (claims: Record<string, unknown> = {}) => signJwt(SECRET, { role: 'authenticated', exp: Math.floor(Date.now() / 1000) + 600, ...claims });

function setup(options: { hold?: boolean; joinHoldMs?: number; maxJoinWaitMs?: number } = {}) {
  const sent: PhoenixMessage[] = [];
  const joined: string[] = [];
  const left: string[] = [];
  let release: ((verdict: string | null) => void) | undefined;
  /** Each held join's `ready`, by topic. */
  const ready = new Map<string, (refusal: string | null) => void>();
  const extension: ChannelExtension = {
    authorize: () => (options.hold ? null : new Promise<string | null>((resolve) => (release = resolve))),
    ...(options.hold && { prepare: (channel: JoinedChannel, done: (refusal: string | null) => void) => (ready.set(channel.topic, done), true) }),
    onJoin: (channel) => joined.push(channel.topic),
    onLeave: (channel) => left.push(channel.topic),
  };
  const rooms = createRooms();
  const peer = { id: 'p', vsn: '1.0.0' as const, send: (message: PhoenixMessage) => sent.push(message), sendFrame: () => undefined };
  const channels = createSocketChannels(peer, token(), {
    jwtSecret: SECRET,
    rooms,
    presence: createPresenceChannels(rooms, createPresenceTracker()),
    extensions: [extension],
    maxBindingsPerConnection: 100,
    joinHoldMs: options.joinHoldMs ?? 5000,
    maxJoinWaitMs: options.maxJoinWaitMs ?? 20_000,
  });
  const message = (topic: string, event: string, ref: string, payload: Record<string, unknown> = {}): InboundMessage =>
    ({ topic, event, ref, joinRef: ref, payload }) as InboundMessage;
  return { sent, joined, left, ready, channels, message, release: (verdict: string | null) => release!(verdict) };
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

describe('a join held until an extension is ready (postgres_changes live)', () => {
  const wait = (timeout?: number) => ({ config: { postgres_changes_options: { wait: true, ...(timeout !== undefined && { timeout }) } } });
  const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

  test('is answered ok when ready, while the socket\'s other channels go on meanwhile', async () => {
    const { sent, joined, ready, channels, message } = setup({ hold: true });
    channels.handle(message('realtime:a', 'phx_join', '1'));
    channels.handle(message('realtime:a', 'broadcast', '2', { type: 'broadcast', event: 'e', payload: {} }));
    channels.handle(message('realtime:b', 'phx_join', '3'));
    await tick();
    expect(replies(sent)).toEqual([['2', 'error']]);
    expect((sent[0]!.payload as { response: { reason: string } }).response.reason).toBe('ChannelNotJoined: the join of realtime:a is not answered yet');
    ready.get('realtime:b')!(null);
    ready.get('realtime:a')!(null);
    expect(replies(sent)).toEqual([['2', 'error'], ['3', 'ok'], ['1', 'ok']]);
    expect(joined).toEqual(['realtime:b', 'realtime:a']);
  });

  test('a refusal refuses the join only for a client that asked to wait; others get ok', async () => {
    const { sent, joined, left, ready, channels, message } = setup({ hold: true });
    channels.handle(message('realtime:a', 'phx_join', '1', wait()));
    channels.handle(message('realtime:b', 'phx_join', '2'));
    await tick();
    ready.get('realtime:a')!('Error parsing postgres_changes[0]: table "public.nope" does not exist');
    ready.get('realtime:b')!('Error parsing postgres_changes[0]: table "public.nope" does not exist');
    expect(sent.map((reply) => [reply.ref, reply.payload])).toEqual([
      ['1', { status: 'error', response: { reason: 'Error parsing postgres_changes[0]: table "public.nope" does not exist' } }],
      ['2', { status: 'ok', response: { postgres_changes: [] } }],
    ]);
    expect(joined).toEqual(['realtime:b']);
    expect(left).toEqual(['realtime:a']); // the refused channel's extensions let go of it
  });

  test('times out: ok after joinHoldMs without wait; PostgresChangesSubscribeTimeout with wait, its timeout clamped to maxJoinWaitMs', async () => {
    const { sent, left, channels, message } = setup({ hold: true, joinHoldMs: 20, maxJoinWaitMs: 30 });
    channels.handle(message('realtime:a', 'phx_join', '1'));
    channels.handle(message('realtime:b', 'phx_join', '2', wait(60_000)));
    channels.handle(message('realtime:c', 'phx_join', '3', wait(5)));
    await new Promise((resolve) => setTimeout(resolve, 80));
    const byRef = Object.fromEntries(sent.map((reply) => [reply.ref, reply.payload]));
    expect(byRef['1']).toEqual({ status: 'ok', response: { postgres_changes: [] } });
    expect(byRef['2']).toEqual({ status: 'error', response: { reason: 'PostgresChangesSubscribeTimeout: the postgres_changes subscription was not live within 30 ms; try again later' } });
    expect(byRef['3']).toEqual({ status: 'error', response: { reason: 'PostgresChangesSubscribeTimeout: the postgres_changes subscription was not live within 5 ms; try again later' } });
    expect(left.sort()).toEqual(['realtime:b', 'realtime:c']);
  });

  test('a leave or a close while held answers nothing more, and a late ready is ignored', async () => {
    const { sent, joined, left, ready, channels, message } = setup({ hold: true });
    channels.handle(message('realtime:a', 'phx_join', '1'));
    channels.handle(message('realtime:b', 'phx_join', '2'));
    await tick();
    channels.handle(message('realtime:a', 'phx_leave', '3'));
    channels.closeAll();
    ready.get('realtime:a')!(null);
    ready.get('realtime:b')!(null);
    expect(sent.filter((reply) => reply.event === 'phx_reply').map((reply) => reply.ref)).toEqual(['3']);
    expect(joined).toEqual([]);
    expect(left.sort()).toEqual(['realtime:a', 'realtime:b']);
  });
});

test('a topic longer than MAX_TOPIC_BYTES is refused before anything is authorized', async () => {
  const { sent, joined, channels, message } = setup({ hold: true });
  const topic = `realtime:${'é'.repeat(600)}`; // 1,209 bytes, 609 characters
  channels.handle(message(topic, 'phx_join', '1', { config: { private: true } }));
  await new Promise((resolve) => setTimeout(resolve, 0));
  expect(sent.map((reply) => reply.payload)).toEqual([{ status: 'error', response: { reason: `TopicNameTooLong: a topic may have at most ${MAX_TOPIC_BYTES} bytes, this one has 1209` } }]);
  expect(joined).toEqual([]);
});

test('a private channel no extension decided for (fails closed) receives, sends and tracks nothing', async () => {
  // No private-channel extension in this context: nothing set the channels' policies.
  const { sent, channels, message, ready } = setup({ hold: true });
  const config = { config: { private: true, broadcast: { self: true, ack: true }, presence: { enabled: true, key: 'k' } } };
  channels.handle(message('realtime:p', 'phx_join', '1', config));
  await new Promise((resolve) => setTimeout(resolve, 0));
  ready.get('realtime:p')!(null);
  channels.handle(message('realtime:p', 'broadcast', '2', { type: 'broadcast', event: 'e', payload: {} }));
  channels.handle(message('realtime:p', 'presence', '3', { type: 'presence', event: 'track', payload: { a: 1 } }));
  const reasons = sent.filter((m) => m.event === 'phx_reply' && m.ref !== '1').map((m) => (m.payload as { response: { reason?: string } }).response.reason);
  expect(reasons).toEqual([
    'Unauthorized: You do not have permissions to write to this Channel topic: p',
    'Unauthorized: You do not have permissions to track presence on this Channel topic: p',
  ]);
  // No presence_state either, and no broadcast echoed to itself.
  expect(sent.filter((m) => m.event === 'presence_state' || m.event === 'broadcast')).toEqual([]);
});
