/**
 * Conformance of the codec with the official client, @supabase/realtime-js:
 * 1. its v2 `Serializer` (lib/serializer.ts: text arrays, binary kind 3 out, kind 4 in) against ours;
 * 2. a real `RealtimeClient` whose WebSocket is an in-memory transport answered through our codec,
 *    so what the client sends is what it really sends and what it accepts is what it really accepts.
 */
import { jest } from '@jest/globals';
import { RealtimeClient, type RealtimeChannel, type WebSocketLikeConstructor } from '@supabase/realtime-js';
import SerializerModule from '@supabase/realtime-js/dist/main/lib/serializer.js';
import { createCodec, decodeErrorReply, encodeFanout, encodeUserBroadcastFrame, type DecodeResult } from '../../../lib/server/realtime/codec/index.js';
import { decodeFailure } from '../../../lib/server/realtime/codec/result.js';
import { RealtimeProtocolError } from '../../../lib/server/realtime/errors.js';
import {
  channelLifecycle,
  channelPush,
  fanoutMessage,
  replyTo,
  userBroadcastMessage,
  type InboundMessage,
  type PhoenixMessage,
  type Vsn,
} from '../../../lib/server/realtime/codec/messages.js';
import { change, clientMessages, serverMessages } from './fixtures.js';

// Jest's ESM loader hands a CommonJS module's `exports` object to a default import.
type SerializerClass = typeof SerializerModule;
const Serializer: SerializerClass = (SerializerModule as unknown as { default?: SerializerClass }).default ?? SerializerModule;

type Frame = string | ArrayBuffer;

function jsEncode(serializer: InstanceType<SerializerClass>, m: PhoenixMessage): Frame {
  return serializer.encode({ join_ref: m.joinRef, ref: m.ref, topic: m.topic, event: m.event, payload: m.payload as Record<string, unknown> }, (frame) => frame) as Frame;
}

function jsDecode(serializer: InstanceType<SerializerClass>, frame: string | Buffer): unknown {
  const data = typeof frame === 'string' ? frame : toArrayBuffer(frame);
  return serializer.decode(data, (message: unknown) => message);
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

const v2 = createCodec('2.0.0');

describe('realtime-js v2 Serializer → our decoder', () => {
  const serializer = new Serializer();

  it.each(Object.entries(clientMessages).filter(([name]) => name !== 'broadcast'))('decodes its text array for %s', (_name, message) => {
    const frame = jsEncode(serializer, message);
    expect(typeof frame).toBe('string');
    expect(v2.decode(frame as string, false)).toEqual({ ok: true, message });
  });

  it('decodes its kind-3 frame of a JSON broadcast into the same message as the text form', () => {
    const frame = jsEncode(serializer, clientMessages.broadcast!);
    expect(frame).toBeInstanceOf(ArrayBuffer);
    expect(new Uint8Array(frame as ArrayBuffer)[0]).toBe(3);
    expect(v2.decode(frame, true)).toEqual({ ok: true, message: clientMessages.broadcast });
  });

  it('decodes its kind-3 frame of a binary broadcast to the same bytes', () => {
    const bytes = new Uint8Array([0, 1, 2, 250, 255]);
    const frame = jsEncode(serializer, { joinRef: '1', ref: '9', topic: 'realtime:room', event: 'broadcast', payload: { type: 'broadcast', event: 'file', payload: bytes.buffer } });
    expect(v2.decode(frame, true)).toEqual({
      ok: true,
      message: { joinRef: '1', ref: '9', topic: 'realtime:room', event: 'broadcast', payload: { type: 'broadcast', event: 'file', payload: bytes } },
    });
  });

  it('decodes the metadata it picks with allowedMetadataKeys as meta', () => {
    const frame = jsEncode(new Serializer(['id']), { ...clientMessages.broadcast!, payload: { type: 'broadcast', event: 'e', payload: { a: 1 }, id: 'm-1' } });
    expect(v2.decode(frame, true)).toMatchObject({ ok: true, message: { payload: { type: 'broadcast', event: 'e', payload: { a: 1 }, meta: { id: 'm-1' } } } });
  });

  it('decodes its null refs (written as empty strings) as null', () => {
    const frame = jsEncode(serializer, { ...clientMessages.broadcast!, joinRef: null, ref: null });
    expect(v2.decode(frame, true)).toMatchObject({ ok: true, message: { joinRef: null, ref: null } });
  });
});

describe('our encoder → realtime-js v2 Serializer', () => {
  const serializer = new Serializer();

  it.each(Object.entries(serverMessages))('it decodes our text array for %s', (_name, { message }) => {
    expect(jsDecode(serializer, v2.encode(message) as string)).toEqual({
      join_ref: message.joinRef,
      ref: message.ref,
      topic: message.topic,
      event: message.event,
      payload: message.payload,
    });
  });

  it('it decodes our kind-4 frame of a binary broadcast to an ArrayBuffer of the same bytes, with meta', () => {
    const frame = v2.encode(userBroadcastMessage({ topic: 'realtime:room', event: 'file', payload: new Uint8Array([7, 8, 9]), encoding: 'binary', metadata: { id: 'x' } }));
    const decoded = jsDecode(serializer, frame as Buffer) as { payload: { payload: ArrayBuffer } };
    expect(decoded).toMatchObject({ join_ref: null, ref: null, topic: 'realtime:room', event: 'broadcast', payload: { type: 'broadcast', event: 'file', meta: { id: 'x' } } });
    expect(decoded.payload.payload).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(decoded.payload.payload)]).toEqual([7, 8, 9]);
  });

  it('it decodes our kind-4 frame of a JSON broadcast', () => {
    const frame = encodeUserBroadcastFrame({ topic: 'realtime:room', event: 'e', payload: { a: ['é', 1] }, encoding: 'json' });
    expect(jsDecode(serializer, frame)).toEqual({ join_ref: null, ref: null, topic: 'realtime:room', event: 'broadcast', payload: { type: 'broadcast', event: 'e', payload: { a: ['é', 1] } } });
  });

  it('it decodes our fan-out frames', () => {
    const frames = encodeFanout('realtime:room', 'postgres_changes', change);
    expect(jsDecode(serializer, frames.frameFor('2.0.0') as string)).toMatchObject({ join_ref: null, ref: null, event: 'postgres_changes' });
  });
});

/**
 * A WebSocket for RealtimeClient's `transport` option whose far end is a tiny server made of our
 * codec: it decodes every client frame (a decode failure fails the test) and answers heartbeats,
 * joins, leaves and presence the way docs/realtime-protocol.md §1.4 says.
 */
function memoryTransport(vsn: Vsn) {
  const codec = createCodec(vsn);
  const received: InboundMessage[] = [];
  const failures: DecodeResult[] = [];
  const state = { socket: undefined as MemorySocket | undefined, failBroadcastsWithAck: false };

  const deliver = (frame: string | Buffer | null) => {
    if (frame === null) throw new Error('the codec dropped a frame the test meant to deliver');
    const data = typeof frame === 'string' ? frame : toArrayBuffer(frame);
    setTimeout(() => state.socket?.onmessage?.({ data }), 0);
  };
  const send = (message: PhoenixMessage) => deliver(codec.encode(message));

  const answer = (m: InboundMessage) => {
    switch (m.event) {
      case 'heartbeat':
      case 'presence':
        return send(replyTo(m, 'ok', {}));
      case 'phx_join': {
        const config = (m.payload.config ?? {}) as { postgres_changes?: object[] };
        return send(replyTo(m, 'ok', { postgres_changes: (config.postgres_changes ?? []).map((binding, i) => ({ ...binding, id: 1000 + i })) }));
      }
      case 'phx_leave':
        send(replyTo(m, 'ok', {}));
        return send(channelLifecycle('phx_close', m.joinRef!, m.topic));
      case 'broadcast':
        if (state.failBroadcastsWithAck) {
          const failure = decodeFailure(new RealtimeProtocolError('INVALID_FIELD', 'test refusal'), { joinRef: m.joinRef, ref: m.ref, topic: m.topic });
          return send(decodeErrorReply(failure)!);
        }
        return undefined;
      default:
        return undefined;
    }
  };

  class MemorySocket {
    readyState = 0;
    binaryType = 'blob';
    bufferedAmount = 0;
    onopen?: (event: unknown) => void;
    onmessage?: (event: { data: Frame }) => void;
    onclose?: (event: { code: number; reason: string; wasClean: boolean }) => void;
    onerror?: (event: unknown) => void;

    constructor(readonly url: string) {
      state.socket = this;
      setTimeout(() => {
        this.readyState = 1;
        this.onopen?.({});
      }, 0);
    }

    send(data: Frame): void {
      const result = codec.decode(data, typeof data !== 'string');
      if (!result.ok) {
        failures.push(result);
        return;
      }
      received.push(result.message);
      answer(result.message);
    }

    close(code = 1000, reason = ''): void {
      this.readyState = 3;
      setTimeout(() => this.onclose?.({ code, reason, wasClean: true }), 0);
    }
  }

  return { MemorySocket, received, failures, state, send, deliver, codec };
}

describe.each<Vsn>(['1.0.0', '2.0.0'])('RealtimeClient vsn %s against our codec', (vsn) => {
  let harness: ReturnType<typeof memoryTransport>;
  let client: RealtimeClient;
  let channel: RealtimeChannel;
  let statuses: string[];
  const settle = () => jest.advanceTimersByTimeAsync(20);

  beforeEach(async () => {
    jest.useFakeTimers();
    harness = memoryTransport(vsn);
    client = new RealtimeClient('ws://127.0.0.1:1/socket', {
      vsn,
      params: { apikey: 'anon-key' },
      transport: harness.MemorySocket as unknown as WebSocketLikeConstructor,
    });
    statuses = [];
  });

  afterEach(async () => {
    await Promise.race([client.disconnect(), settle()]);
    await settle();
    jest.clearAllTimers();
    jest.useRealTimers();
  });

  async function subscribe(config: Parameters<RealtimeClient['channel']>[1] = { config: {} }, setup: (ch: RealtimeChannel) => void = () => {}) {
    channel = client.channel('room', config);
    setup(channel);
    channel.subscribe((status) => statuses.push(status));
    await settle();
    expect(harness.failures).toEqual([]);
    expect(statuses).toEqual(['SUBSCRIBED']);
  }

  it('joins: its phx_join decodes (ref = join_ref, config intact) and our join reply subscribes it', async () => {
    await subscribe({ config: { broadcast: { self: true } } }, (ch) => ch.on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'todos' }, () => {}));
    const join = harness.received.find((m) => m.event === 'phx_join')!;
    expect(join).toMatchObject({ topic: 'realtime:room', joinRef: join.ref });
    expect(join.payload).toMatchObject({ config: { broadcast: { self: true }, postgres_changes: [{ event: 'INSERT', schema: 'public', table: 'todos' }] } });
  });

  it('stays joined across heartbeats: its heartbeat decodes and our reply satisfies it', async () => {
    await subscribe();
    await jest.advanceTimersByTimeAsync(120_000);
    const heartbeats = harness.received.filter((m) => m.event === 'heartbeat');
    expect(heartbeats.length).toBeGreaterThanOrEqual(4);
    expect(heartbeats[0]).toMatchObject({ topic: 'phoenix', joinRef: null, payload: {} });
    expect(statuses).toEqual(['SUBSCRIBED']);
    expect(harness.failures).toEqual([]);
  });

  it('delivers our postgres_changes fan-out frame to the binding whose id it carries', async () => {
    const changes: unknown[] = [];
    await subscribe({ config: {} }, (ch) => ch.on('postgres_changes', { event: '*', schema: 'public', table: 'todos' }, (p) => changes.push(p)));
    const data = change.data;
    harness.deliver(encodeFanout('realtime:room', 'postgres_changes', { ids: [1000], data }).frameFor(vsn));
    harness.deliver(encodeFanout('realtime:room', 'postgres_changes', { ids: [999], data }).frameFor(vsn));
    await settle();
    expect(changes).toEqual([expect.objectContaining({ eventType: 'UPDATE', table: 'todos', new: data.record, old: data.old_record })]);
  });

  it('delivers our text broadcast, meta included', async () => {
    const got: unknown[] = [];
    await subscribe({ config: {} }, (ch) => ch.on('broadcast', { event: 'cursor' }, (p) => got.push(p)));
    harness.send(serverMessages.broadcast!.message);
    await settle();
    expect(got).toEqual([{ type: 'broadcast', event: 'cursor', payload: { x: 1 }, meta: { id: 'm1' } }]);
  });

  it('sends broadcasts that our decoder reads as the broadcast envelope', async () => {
    await subscribe();
    expect(await channel.send({ type: 'broadcast', event: 'cursor', payload: { x: 1, s: 'é' } })).toBe('ok');
    const sent = harness.received.find((m) => m.event === 'broadcast');
    expect(sent).toMatchObject({ topic: 'realtime:room', payload: { type: 'broadcast', event: 'cursor', payload: { x: 1, s: 'é' } } });
  });

  it('answers an acknowledged broadcast with our error reply, resolving send() with "error"', async () => {
    await subscribe({ config: { broadcast: { ack: true } } });
    harness.state.failBroadcastsWithAck = true;
    const result = channel.send({ type: 'broadcast', event: 'e', payload: {} });
    await settle();
    expect(await result).toBe('error');
  });

  it('tracks presence: its track push decodes, our presence_state and presence_diff sync it', async () => {
    await subscribe({ config: { presence: { key: 'u1' } } }, (ch) => ch.on('presence', { event: 'sync' }, () => {}));
    const joinRef = harness.received.find((m) => m.event === 'phx_join')!.joinRef;
    const tracked = channel.track({ online: true });
    await settle();
    expect(await tracked).toBe('ok');
    expect(harness.received.find((m) => m.event === 'presence')).toMatchObject({ payload: { type: 'presence', event: 'track', payload: { online: true } } });
    harness.send(channelPush(joinRef, 'realtime:room', 'presence_state', { u1: { metas: [{ phx_ref: 'A', online: true }] } }));
    harness.send(fanoutMessage('realtime:room', 'presence_diff', { joins: { u2: { metas: [{ phx_ref: 'B', online: true }] } }, leaves: {} }));
    await settle();
    expect(channel.presenceState()).toEqual({ u1: [{ presence_ref: 'A', online: true }], u2: [{ presence_ref: 'B', online: true }] });
  });

  it('closes the channel on our phx_close and leaves with our reply', async () => {
    await subscribe();
    expect(await Promise.all([channel.unsubscribe(), settle()]).then(([status]) => status)).toBe('ok');
    expect(harness.received.some((m) => m.event === 'phx_leave')).toBe(true);
    expect(harness.failures).toEqual([]);
  });

  it('reports CLOSED when our server closes the channel', async () => {
    await subscribe();
    const joinRef = harness.received.find((m) => m.event === 'phx_join')!.joinRef!;
    harness.send(channelLifecycle('phx_close', joinRef, 'realtime:room'));
    await settle();
    expect(statuses).toEqual(['SUBSCRIBED', 'CLOSED']);
  });

  if (vsn === '2.0.0') {
    it('sends a binary broadcast as kind 3 that our decoder reads as bytes, and takes our kind 4 back', async () => {
      const got: unknown[] = [];
      await subscribe({ config: {} }, (ch) => ch.on('broadcast', { event: 'file' }, (p) => got.push(p)));
      await channel.send({ type: 'broadcast', event: 'file', payload: new Uint8Array([1, 2, 3]).buffer });
      const sent = harness.received.find((m) => m.event === 'broadcast')!;
      expect(sent.payload).toEqual({ type: 'broadcast', event: 'file', payload: new Uint8Array([1, 2, 3]) });

      harness.deliver(encodeFanout(sent.topic, sent.event, sent.payload).frameFor('2.0.0'));
      await settle();
      expect(got).toHaveLength(1);
      const received = got[0] as { event: string; payload: ArrayBuffer };
      expect(received.event).toBe('file');
      expect([...new Uint8Array(received.payload)]).toEqual([1, 2, 3]);
    });
  }
});
