import { jest } from '@jest/globals';
import {
  createCodec,
  decodeErrorReply,
  DEFAULT_MAX_DEPTH,
  encodeFanout,
  encodeUserBroadcastFrame,
  negotiateVsn,
  rawJson,
  type DecodeResult,
} from '../../../lib/server/realtime/codec/index.js';
import { isRealtimeProtocolError, RealtimeProtocolError, type RealtimeProtocolErrorCode } from '../../../lib/server/realtime/errors.js';
import { asUserBroadcast, fanoutMessage, userBroadcastMessage, type PhoenixMessage, type Vsn } from '../../../lib/server/realtime/codec/messages.js';
import { change, clientMessages, serverMessages } from './fixtures.js';

const v1 = createCodec('1.0.0');
const v2 = createCodec('2.0.0');
const codecs = { '1.0.0': v1, '2.0.0': v2 } as const;
const vsns: Vsn[] = ['1.0.0', '2.0.0'];

/** What realtime-js puts on the wire for `message` (v1: JSON.stringify of the object; v2: the array). */
function clientText(vsn: Vsn, m: PhoenixMessage): string {
  return vsn === '1.0.0'
    ? JSON.stringify({ topic: m.topic, event: m.event, payload: m.payload, ref: m.ref, join_ref: m.joinRef })
    : JSON.stringify([m.joinRef, m.ref, m.topic, m.event, m.payload]);
}

function failure(result: DecodeResult): Extract<DecodeResult, { ok: false }> {
  if (result.ok) throw new Error(`expected a decode failure, got ${JSON.stringify(result.message)}`);
  expect(result.error).toBeInstanceOf(RealtimeProtocolError);
  return result;
}

function codeOf(result: DecodeResult): RealtimeProtocolErrorCode {
  return failure(result).error.code;
}

/** A kind-3 frame as the protocol doc lays it out; `lengths` overrides the header bytes to lie. */
function kind3(parts: { joinRef?: string; ref?: string; topic?: string; event?: string; metadata?: string; encoding?: number; payload?: Uint8Array | string }, lengths: Partial<Record<'joinRef' | 'ref' | 'topic' | 'event' | 'metadata', number>> = {}): Buffer {
  const joinRef = Buffer.from(parts.joinRef ?? '1');
  const ref = Buffer.from(parts.ref ?? '2');
  const topic = Buffer.from(parts.topic ?? 'realtime:room');
  const event = Buffer.from(parts.event ?? 'cursor');
  const metadata = Buffer.from(parts.metadata ?? '');
  const payload = typeof parts.payload === 'string' ? Buffer.from(parts.payload) : Buffer.from(parts.payload ?? Buffer.from('{"x":1}'));
  const header = Buffer.from([
    3,
    lengths.joinRef ?? joinRef.length,
    lengths.ref ?? ref.length,
    lengths.topic ?? topic.length,
    lengths.event ?? event.length,
    lengths.metadata ?? metadata.length,
    parts.encoding ?? 1,
  ]);
  return Buffer.concat([header, joinRef, ref, topic, event, metadata, payload]);
}

describe('negotiateVsn', () => {
  it('defaults to 1.0.0 when the client sends no vsn, as Phoenix does', () => {
    expect(negotiateVsn(undefined)).toEqual({ ok: true, vsn: '1.0.0' });
    expect(negotiateVsn(null)).toEqual({ ok: true, vsn: '1.0.0' });
  });

  it('accepts exactly the two versions realtime-js can send', () => {
    expect(negotiateVsn('1.0.0')).toEqual({ ok: true, vsn: '1.0.0' });
    expect(negotiateVsn('2.0.0')).toEqual({ ok: true, vsn: '2.0.0' });
  });

  it.each(['', '2.0', '2.0.1', '3.0.0', ' 1.0.0', 'latest'])('refuses vsn %j with UNSUPPORTED_VSN', (param) => {
    const result = negotiateVsn(param);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe('UNSUPPORTED_VSN');
  });
});

describe('createCodec', () => {
  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('refuses maxFrameBytes %p with INVALID_OPTION', (value) => {
    expect(() => createCodec('2.0.0', { maxFrameBytes: value })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
  });

  it('refuses a maxDepth over 1000, where relaying accepted payloads could overflow the stack', () => {
    expect(() => createCodec('2.0.0', { maxDepth: 1001 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    expect(createCodec('2.0.0', { maxDepth: 1000 }).vsn).toBe('2.0.0');
  });

  it('refuses an unknown vsn with INVALID_OPTION', () => {
    expect(() => createCodec('3.0.0' as Vsn)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
  });
});

describe.each(vsns)('vsn %s round trips', (vsn) => {
  const codec = codecs[vsn];

  it.each(Object.entries(clientMessages))('decodes the client message %s as realtime-js sends it', (_name, message) => {
    expect(codec.decode(clientText(vsn, message), false)).toEqual({ ok: true, message });
  });

  it.each(Object.entries(clientMessages))('decodes the client message %s from UTF-8 bytes in a text frame', (_name, message) => {
    expect(codec.decode(Buffer.from(clientText(vsn, message)), false)).toEqual({ ok: true, message });
  });

  it.each(Object.entries(serverMessages))('encodes %s to the exact wire text', (_name, { message, v1: v1Text, v2: v2Text }) => {
    expect(codec.encode(message)).toBe(vsn === '1.0.0' ? v1Text : v2Text);
  });

  it.each(Object.entries({ ...serverMessages, ...Object.fromEntries(Object.entries(clientMessages).map(([k, m]) => [k, { message: m }])) }))(
    'decodes its own encoding of %s back to the message (v1 drops join_ref)',
    (_name, { message }) => {
      const encoded = codec.encode(message);
      expect(typeof encoded).toBe('string');
      const expected = vsn === '1.0.0' ? { ...message, joinRef: null } : message;
      expect(codec.decode(encoded as string, false)).toEqual({ ok: true, message: expected });
    },
  );
});

describe('v1 frames', () => {
  it('reads absent ref and join_ref as null (phoenix.js sends heartbeats without join_ref)', () => {
    expect(v1.decode('{"topic":"phoenix","event":"heartbeat","payload":{},"ref":"7"}', false)).toEqual({
      ok: true,
      message: { joinRef: null, ref: '7', topic: 'phoenix', event: 'heartbeat', payload: {} },
    });
    expect(v1.decode('{"topic":"t","event":"e","payload":{}}', false)).toMatchObject({ ok: true, message: { ref: null, joinRef: null } });
  });

  it('never writes join_ref, like Phoenix V1 serializer', () => {
    expect(v1.encode({ joinRef: '9', ref: '9', topic: 't', event: 'phx_close', payload: {} })).toBe('{"topic":"t","event":"phx_close","payload":{},"ref":"9"}');
  });

  it('refuses binary frames with BINARY_NOT_SUPPORTED', () => {
    expect(codeOf(v1.decode(Buffer.from(clientText('1.0.0', clientMessages.heartbeat!)), true))).toBe('BINARY_NOT_SUPPORTED');
  });

  it.each([
    ['an array', '[null,"1","t","e",{}]'],
    ['a string', '"hello"'],
    ['null', 'null'],
    ['a number', '42'],
  ])('refuses %s as MALFORMED_FRAME', (_kind, text) => {
    expect(codeOf(v1.decode(text, false))).toBe('MALFORMED_FRAME');
  });

  it('drops a binary user broadcast: v1 has no binary frames (Supabase drops them too)', () => {
    const message = userBroadcastMessage({ topic: 'realtime:room', event: 'file', payload: new Uint8Array([1, 2, 3]), encoding: 'binary' });
    expect(v1.encode(message)).toBeNull();
  });

  it('sends a JSON user broadcast as the text broadcast it is', () => {
    const message = userBroadcastMessage({ topic: 'realtime:room', event: 'e', payload: { a: 1 }, encoding: 'json', metadata: { id: 'x' } });
    expect(v1.encode(message)).toBe('{"topic":"realtime:room","event":"broadcast","payload":{"type":"broadcast","event":"e","payload":{"a":1},"meta":{"id":"x"}},"ref":null}');
  });
});

describe('v2 text frames', () => {
  it('ignores array elements after the payload, as Supabase V2Serializer does', () => {
    expect(v2.decode('["1","2","realtime:room","phx_leave",{},"extra"]', false)).toEqual({
      ok: true,
      message: { joinRef: '1', ref: '2', topic: 'realtime:room', event: 'phx_leave', payload: {} },
    });
  });

  it.each([
    ['an object', '{"topic":"t","event":"e","payload":{},"ref":"1"}'],
    ['a 4-element array', '[null,"1","t","e"]'],
    ['an empty array', '[]'],
    ['null', 'null'],
  ])('refuses %s as MALFORMED_FRAME', (_kind, text) => {
    expect(codeOf(v2.decode(text, false))).toBe('MALFORMED_FRAME');
  });

  it('keeps the ref and topic of a short array so the push can be answered', () => {
    expect(failure(v2.decode('["1","5","realtime:room"]', false))).toMatchObject({ joinRef: '1', ref: '5', topic: 'realtime:room' });
  });
});

describe.each(vsns)('vsn %s field validation', (vsn) => {
  const codec = codecs[vsn];
  const frame = (m: Partial<Record<keyof PhoenixMessage, unknown>>) =>
    clientText(vsn, { joinRef: '1', ref: '2', topic: 'realtime:room', event: 'phx_leave', payload: {}, ...m } as PhoenixMessage);

  it.each([
    ['joinRef', true, 'join_ref'],
    ['joinRef', { a: 1 }, 'join_ref'],
    ['ref', 1.5, 'ref'],
    ['ref', [], 'ref'],
    ['topic', 7, 'topic'],
    ['topic', null, 'topic'],
    ['event', '', 'event'],
    ['event', 3, 'event'],
    ['payload', [], 'payload'],
    ['payload', 'text', 'payload'],
    ['payload', null, 'payload'],
    ['payload', 5, 'payload'],
  ])('refuses %s = %j with INVALID_FIELD naming %s', (key, value, field) => {
    const result = failure(codec.decode(frame({ [key]: value }), false));
    expect(result.error).toMatchObject({ code: 'INVALID_FIELD', field });
  });

  it('keeps the valid ref, join_ref and topic of an invalid frame for the error reply', () => {
    expect(failure(codec.decode(frame({ payload: [] }), false))).toMatchObject({ ref: '2', topic: 'realtime:room', ...(vsn === '2.0.0' ? { joinRef: '1' } : {}) });
  });

  it('does not echo client content in error messages', () => {
    const result = failure(codec.decode(frame({ topic: { evil: '<script>' } }), false));
    expect(result.error.message).not.toContain('script');
  });

  it('accepts integer refs and reads them as decimal strings', () => {
    expect(codec.decode(frame({ ref: 12, joinRef: 3 }), false)).toMatchObject({ ok: true, message: { ref: '12', joinRef: '3' } });
  });

  it('accepts an empty topic: routing unknown topics is the server’s job', () => {
    expect(codec.decode(frame({ topic: '' }), false)).toMatchObject({ ok: true, message: { topic: '' } });
  });

  it('refuses invalid JSON with MALFORMED_JSON, without quoting it back', () => {
    expect(codeOf(codec.decode('{"topic":', false))).toBe('MALFORMED_JSON');
    expect(failure(codec.decode('{"secret-ish":', false)).error.message).not.toContain('secret');
    expect(codeOf(codec.decode('', false))).toBe('MALFORMED_JSON');
  });

  it('refuses a text frame of invalid UTF-8 bytes with MALFORMED_FRAME', () => {
    const bytes = Buffer.concat([Buffer.from(frame({}).slice(0, -2)), Buffer.from([0xc3, 0x28]), Buffer.from('}]')]);
    expect(codeOf(codec.decode(bytes, false))).toBe('MALFORMED_FRAME');
  });

  it('refuses data that is neither a string nor bytes with MALFORMED_FRAME', () => {
    expect(codeOf(codec.decode({} as unknown as string, false))).toBe('MALFORMED_FRAME');
    expect(codeOf(codec.decode(42 as unknown as string, true))).toBe(vsn === '1.0.0' ? 'BINARY_NOT_SUPPORTED' : 'MALFORMED_FRAME');
  });
});

describe('frame size limit', () => {
  const small = { '1.0.0': createCodec('1.0.0', { maxFrameBytes: 64 }), '2.0.0': createCodec('2.0.0', { maxFrameBytes: 64 }) };

  it.each(vsns)('vsn %s rejects an oversized frame with FRAME_TOO_LARGE before JSON.parse runs', (vsn) => {
    const parse = jest.spyOn(JSON, 'parse');
    try {
      const text = clientText(vsn, { ...clientMessages.broadcast!, payload: { type: 'broadcast', event: 'e', payload: 'x'.repeat(100) } });
      expect(codeOf(small[vsn].decode(text, false))).toBe('FRAME_TOO_LARGE');
      expect(codeOf(small[vsn].decode(Buffer.from(text), false))).toBe('FRAME_TOO_LARGE');
      expect(parse).not.toHaveBeenCalled();
    } finally {
      parse.mockRestore();
    }
  });

  it('counts UTF-8 bytes, not UTF-16 units, for string frames', () => {
    // 20 three-byte characters: 20 units of text, 60 bytes of payload, over 64 bytes in all.
    const text = JSON.stringify([null, '1', 't', 'e', { s: '€'.repeat(20) }]);
    expect(text.length).toBeLessThan(64);
    expect(codeOf(small['2.0.0'].decode(text, false))).toBe('FRAME_TOO_LARGE');
  });

  it('accepts a frame of exactly maxFrameBytes', () => {
    const base = JSON.stringify([null, '1', 't', 'e', { s: '' }]);
    const text = JSON.stringify([null, '1', 't', 'e', { s: 'x'.repeat(64 - base.length) }]);
    expect(Buffer.byteLength(text)).toBe(64);
    expect(small['2.0.0'].decode(text, false).ok).toBe(true);
  });

  it('rejects an oversized binary frame before reading its header', () => {
    const frame = kind3({ payload: Buffer.alloc(100) });
    expect(codeOf(small['2.0.0'].decode(frame, true))).toBe('FRAME_TOO_LARGE');
  });

  it('defaults to Supabase’s 5 000 000 bytes', () => {
    const text = JSON.stringify([null, '1', 't', 'e', { s: 'x'.repeat(5_000_000) }]);
    expect(codeOf(v2.decode(text, false))).toBe('FRAME_TOO_LARGE');
    const fits = JSON.stringify([null, '1', 't', 'e', { s: 'x'.repeat(4_999_900) }]);
    expect(v2.decode(fits, false).ok).toBe(true);
  });
});

describe('nesting limit', () => {
  const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
  /** A v2 frame whose JSON is `depth` levels deep in all (the frame array is level 1, payload level 2). */
  const frameOfDepth = (depth: number) => `[null,"1","t","e",{"a":${nested(depth - 2)}}]`;

  it(`accepts ${DEFAULT_MAX_DEPTH} levels and refuses ${DEFAULT_MAX_DEPTH + 1} with NESTING_TOO_DEEP`, () => {
    expect(v2.decode(frameOfDepth(DEFAULT_MAX_DEPTH), false).ok).toBe(true);
    expect(failure(v2.decode(frameOfDepth(DEFAULT_MAX_DEPTH + 1), false))).toMatchObject({ error: { code: 'NESTING_TOO_DEEP' } });
  });

  it('refuses a 100 000-level payload, which JSON.stringify could not serialize again for relaying', () => {
    const deep = `[null,"1","t","e",{"a":${nested(100_000)}}]`;
    expect(codeOf(v2.decode(deep, false))).toBe('NESTING_TOO_DEEP');
  });

  it('measures nesting, not bracket characters: brackets inside strings do not count', () => {
    const text = `[null,"1","t","e",{"s":"\\"${'['.repeat(1000)}\\\\","t":"${'{'.repeat(1000)}"}]`;
    expect(v2.decode(text, false)).toMatchObject({ ok: true });
  });

  it('is configurable', () => {
    const shallow = createCodec('1.0.0', { maxDepth: 3 });
    expect(shallow.decode('{"topic":"t","event":"e","payload":{"a":[1]}}', false).ok).toBe(true);
    expect(codeOf(shallow.decode('{"topic":"t","event":"e","payload":{"a":[[1]]}}', false))).toBe('NESTING_TOO_DEEP');
  });
});

describe('v2 binary frames in (kind 3, user broadcast push)', () => {
  it('decodes a JSON user payload into the broadcast envelope a text broadcast would have', () => {
    expect(v2.decode(kind3({ payload: '{"x":1,"y":[2]}' }), true)).toEqual({
      ok: true,
      message: { joinRef: '1', ref: '2', topic: 'realtime:room', event: 'broadcast', payload: { type: 'broadcast', event: 'cursor', payload: { x: 1, y: [2] } } },
    });
  });

  it('keeps a binary user payload as a copy of its bytes', () => {
    const frame = kind3({ encoding: 0, payload: new Uint8Array([0, 255, 7]) });
    const result = v2.decode(frame, true);
    if (!result.ok) throw result.error;
    const payload = (result.message.payload as { payload: Uint8Array }).payload;
    expect(payload).toBeInstanceOf(Uint8Array);
    expect([...payload]).toEqual([0, 255, 7]);
    frame.fill(9);
    expect([...payload]).toEqual([0, 255, 7]);
  });

  it('accepts the frame as an ArrayBuffer or a Uint8Array view into a larger buffer', () => {
    const frame = kind3({});
    const padded = new Uint8Array(frame.length + 10);
    padded.set(frame, 5);
    const ab = frame.buffer.slice(frame.byteOffset, frame.byteOffset + frame.length) as ArrayBuffer;
    expect(v2.decode(ab, true)).toEqual(v2.decode(frame, true));
    expect(v2.decode(padded.subarray(5, 5 + frame.length), true)).toEqual(v2.decode(frame, true));
  });

  it('reads empty refs as null: realtime-js writes "" for a null ref', () => {
    expect(v2.decode(kind3({ joinRef: '', ref: '' }), true)).toMatchObject({ ok: true, message: { joinRef: null, ref: null } });
  });

  it('puts metadata under meta', () => {
    expect(v2.decode(kind3({ metadata: '{"id":"abc"}' }), true)).toMatchObject({ ok: true, message: { payload: { meta: { id: 'abc' } } } });
  });

  it('decodes an empty binary payload and an empty user event', () => {
    expect(v2.decode(kind3({ encoding: 0, payload: new Uint8Array(), event: '' }), true)).toMatchObject({
      ok: true,
      message: { payload: { event: '', payload: new Uint8Array() } },
    });
  });

  it.each([
    [0, 'push'],
    [1, 'reply'],
    [2, 'broadcast'],
    [4, 'user broadcast'],
    [200, 'unknown'],
  ])('refuses kind %i (%s) with UNSUPPORTED_BINARY_KIND', (kind) => {
    const frame = kind3({});
    frame[0] = kind;
    expect(codeOf(v2.decode(frame, true))).toBe('UNSUPPORTED_BINARY_KIND');
  });

  it('refuses an empty binary frame and a truncated header with MALFORMED_FRAME', () => {
    expect(codeOf(v2.decode(Buffer.alloc(0), true))).toBe('MALFORMED_FRAME');
    expect(codeOf(v2.decode(Buffer.from([3, 1, 1, 1]), true))).toBe('MALFORMED_FRAME');
  });

  it.each(['joinRef', 'ref', 'topic', 'event', 'metadata'] as const)('refuses a header whose %s length runs past the frame', (field) => {
    const frame = kind3({ payload: '' }, { [field]: 255 });
    expect(codeOf(v2.decode(frame, true))).toBe('MALFORMED_FRAME');
  });

  it('keeps the readable refs and topic when a later part is bad', () => {
    expect(failure(v2.decode(kind3({ payload: '{nope' }), true))).toMatchObject({
      error: { code: 'MALFORMED_JSON' },
      joinRef: '1',
      ref: '2',
      topic: 'realtime:room',
    });
  });

  it.each([
    ['join_ref', 'joinRef'],
    ['topic', 'topic'],
    ['user_event', 'event'],
    ['metadata', 'metadata'],
    ['payload', 'payload'],
  ] as const)('refuses invalid UTF-8 in %s with INVALID_FIELD', (field, part) => {
    // A placeholder byte swapped for 0xff afterwards: no string encodes to invalid UTF-8.
    const frame = kind3({ [part]: 'Z' });
    frame[frame.indexOf(0x5a, 7)] = 0xff;
    expect(failure(v2.decode(frame, true)).error).toMatchObject({ code: 'INVALID_FIELD', field });
  });

  it('refuses a payload_encoding other than 0 or 1', () => {
    expect(failure(v2.decode(kind3({ encoding: 2 }), true)).error).toMatchObject({ code: 'INVALID_FIELD', field: 'payload_encoding' });
  });

  it.each([
    ['not JSON', '{id', 'MALFORMED_JSON'],
    ['an array', '[1]', 'INVALID_FIELD'],
    ['a string', '"id"', 'INVALID_FIELD'],
  ])('refuses metadata that is %s', (_kind, metadata, code) => {
    expect(codeOf(v2.decode(kind3({ metadata }), true))).toBe(code);
  });

  it('refuses metadata that fits 255 bytes raw but not once re-serialized for kind 4', () => {
    const metadata = `{${Array.from({ length: 20 }, (_, i) => `"${String.fromCharCode(97 + i)}":1e20`).join(',')}}`;
    expect(Buffer.byteLength(metadata)).toBeLessThanOrEqual(255);
    expect(failure(v2.decode(kind3({ metadata }), true)).error).toMatchObject({ code: 'INVALID_FIELD', field: 'metadata' });
  });

  it('refuses a JSON user payload nested too deeply', () => {
    expect(codeOf(v2.decode(kind3({ payload: `${'['.repeat(300)}${']'.repeat(300)}` }), true))).toBe('NESTING_TOO_DEEP');
  });
});

describe('v2 binary frames out (kind 4, user broadcast)', () => {
  it('encodes a broadcast with a binary user payload as kind 4, byte for byte', () => {
    const message = userBroadcastMessage({ topic: 'realtime:r', event: 'ev', payload: new Uint8Array([1, 2, 3]), encoding: 'binary', metadata: { id: 'a' } });
    const frame = v2.encode(message);
    expect(Buffer.isBuffer(frame)).toBe(true);
    expect([...(frame as Buffer)]).toEqual([4, 10, 2, 10, 0, ...Buffer.from('realtime:r'), ...Buffer.from('ev'), ...Buffer.from('{"id":"a"}'), 1, 2, 3]);
  });

  it('takes an ArrayBuffer payload and a Uint8Array view at an offset', () => {
    const bytes = new Uint8Array([9, 1, 2, 9]);
    const fromView = v2.encode(userBroadcastMessage({ topic: 't', event: 'e', payload: bytes.subarray(1, 3), encoding: 'binary' })) as Buffer;
    const fromBuffer = v2.encode(userBroadcastMessage({ topic: 't', event: 'e', payload: new Uint8Array([1, 2]).buffer, encoding: 'binary' })) as Buffer;
    expect([...fromView]).toEqual([4, 1, 1, 0, 0, 116, 101, 1, 2]);
    expect(fromBuffer.equals(fromView)).toBe(true);
  });

  it('relays a decoded kind-3 binary broadcast as kind 4 with the same topic, event, metadata and bytes', () => {
    const result = v2.decode(kind3({ encoding: 0, metadata: '{"id":"m"}', payload: new Uint8Array([5, 6]) }), true);
    if (!result.ok) throw result.error;
    const relay = v2.encode({ ...result.message, joinRef: null, ref: null }) as Buffer;
    expect([...relay]).toEqual([4, 13, 6, 10, 0, ...Buffer.from('realtime:room'), ...Buffer.from('cursor'), ...Buffer.from('{"id":"m"}'), 5, 6]);
  });

  it('sends a JSON user payload as text, not kind 4', () => {
    expect(v2.encode(userBroadcastMessage({ topic: 't', event: 'e', payload: { a: 1 }, encoding: 'json' }))).toBe('[null,null,"t","broadcast",{"type":"broadcast","event":"e","payload":{"a":1}}]');
  });

  it('builds kind 4 with a JSON payload when asked directly', () => {
    expect([...encodeUserBroadcastFrame({ topic: 't', event: 'e', payload: [1], encoding: 'json' })]).toEqual([4, 1, 1, 0, 1, 116, 101, ...Buffer.from('[1]')]);
  });

  it('throws INVALID_OUTBOUND_MESSAGE for a binary broadcast with refs (kind 4 has no room for them)', () => {
    const message = { ...userBroadcastMessage({ topic: 't', event: 'e', payload: new Uint8Array(1), encoding: 'binary' }), ref: '1' };
    expect(() => v2.encode(message)).toThrow(expect.objectContaining({ code: 'INVALID_OUTBOUND_MESSAGE' }));
  });

  it('throws INVALID_OUTBOUND_MESSAGE for a header string over 255 bytes', () => {
    expect(() => v2.encode(userBroadcastMessage({ topic: 'é'.repeat(128), event: 'e', payload: new Uint8Array(1), encoding: 'binary' }))).toThrow(
      expect.objectContaining({ code: 'INVALID_OUTBOUND_MESSAGE', field: 'topic' }),
    );
    expect(() => encodeUserBroadcastFrame({ topic: 't', event: 'e', payload: 1, encoding: 'binary' })).toThrow(expect.objectContaining({ field: 'payload' }));
  });
});

describe('encode of programmer errors', () => {
  it.each([
    ['a numeric topic', { topic: 1 }],
    ['an empty event', { event: '' }],
    ['a numeric ref', { ref: 1 }],
    ['an undefined joinRef', { joinRef: undefined }],
    ['an undefined payload', { payload: undefined }],
    ['a function payload', { payload: () => 1 }],
    ['a string payload (Phoenix refuses non-map payloads)', { payload: 'text' }],
    ['an array payload', { payload: [] }],
    ['a null payload', { payload: null }],
    ['a payload of raw bytes', { payload: new Uint8Array(1) }],
    ['a BigInt in the payload', { payload: { n: 1n } }],
  ])('throws INVALID_OUTBOUND_MESSAGE for %s', (_what, change) => {
    const message = { ...serverMessages.system!.message, ...change } as PhoenixMessage;
    for (const codec of [v1, v2]) {
      let thrown: unknown;
      try {
        codec.encode(message);
      } catch (error) {
        thrown = error;
      }
      expect(isRealtimeProtocolError(thrown, 'INVALID_OUTBOUND_MESSAGE')).toBe(true);
    }
  });
});

describe('decodeErrorReply', () => {
  it('answers the push with phx_reply error, reason "<CODE>: <message>", carrying its join_ref, ref and topic', () => {
    const result = failure(v2.decode('["1","5","realtime:room","broadcast",[]]', false));
    const reply = decodeErrorReply(result);
    expect(v2.encode(reply!)).toBe('["1","5","realtime:room","phx_reply",{"status":"error","response":{"reason":"INVALID_FIELD: payload must be a JSON object, got an array"}}]');
    expect(v1.encode(reply!)).toBe('{"topic":"realtime:room","event":"phx_reply","payload":{"status":"error","response":{"reason":"INVALID_FIELD: payload must be a JSON object, got an array"}},"ref":"5"}');
  });

  it('answers with a null join_ref when the join_ref was unreadable', () => {
    const reply = decodeErrorReply(failure(v2.decode('[true,"5","realtime:room","e",{}]', false)));
    expect(reply).toMatchObject({ joinRef: null, ref: '5', topic: 'realtime:room' });
  });

  it('returns null when no push is waiting: unreadable frame, missing ref or topic', () => {
    expect(decodeErrorReply(failure(v2.decode('not json', false)))).toBeNull();
    expect(decodeErrorReply(failure(v2.decode('["1",null,"realtime:room","e",[]]', false)))).toBeNull();
    expect(decodeErrorReply(failure(v2.decode('["1","5",7,"e",{}]', false)))).toBeNull();
  });
});

describe('encodeFanout', () => {
  const payload = change;

  it.each(vsns)('builds the same frame as encode for vsn %s', (vsn) => {
    expect(encodeFanout('realtime:room', 'postgres_changes', payload).frameFor(vsn)).toBe(codecs[vsn].encode(fanoutMessage('realtime:room', 'postgres_changes', payload)));
  });

  it('serializes the payload once for every vsn and every socket, and only when a frame is asked for', () => {
    let serializations = 0;
    const counted = { toJSON: () => (serializations++, { n: 1 }) };
    const frames = encodeFanout('realtime:room', 'broadcast', counted);
    expect(serializations).toBe(0);
    const first = frames.frameFor('2.0.0');
    for (let socket = 0; socket < 1000; socket++) {
      expect(frames.frameFor('2.0.0')).toBe(first);
      frames.frameFor('1.0.0');
    }
    expect(serializations).toBe(1);
    expect(first).toBe('[null,null,"realtime:room","broadcast",{"n":1}]');
    expect(frames.frameFor('1.0.0')).toBe('{"topic":"realtime:room","event":"broadcast","payload":{"n":1},"ref":null}');
  });

  it('splices rawJson payloads without serializing them again', () => {
    const data = JSON.stringify(payload.data);
    const frames = encodeFanout('realtime:room', 'postgres_changes', rawJson(`{"ids":[106243155],"data":${data}}`));
    expect(frames.frameFor('2.0.0')).toBe(serverMessages.postgresChanges!.v2);
    expect(frames.frameFor('1.0.0')).toBe(serverMessages.postgresChanges!.v1);
  });

  it('gives v2 a kind-4 Buffer and v1 nothing for a binary user broadcast', () => {
    const message = userBroadcastMessage({ topic: 'realtime:room', event: 'f', payload: new Uint8Array([1]), encoding: 'binary' });
    const frames = encodeFanout(message.topic, message.event, message.payload);
    expect(Buffer.isBuffer(frames.frameFor('2.0.0'))).toBe(true);
    expect(frames.frameFor('1.0.0')).toBeNull();
  });

  it('throws INVALID_OUTBOUND_MESSAGE up front for a bad topic or event', () => {
    expect(() => encodeFanout(1 as unknown as string, 'e', {})).toThrow(expect.objectContaining({ code: 'INVALID_OUTBOUND_MESSAGE' }));
    expect(() => encodeFanout('t', '', {})).toThrow(expect.objectContaining({ code: 'INVALID_OUTBOUND_MESSAGE' }));
  });
});

describe('asUserBroadcast', () => {
  it('reads the user broadcast of a decoded broadcast message, binary or JSON', () => {
    const binary = v2.decode(kind3({ encoding: 0, payload: new Uint8Array([1]), metadata: '{"id":"x"}' }), true);
    if (!binary.ok) throw binary.error;
    expect(asUserBroadcast(binary.message)).toEqual({ topic: 'realtime:room', event: 'cursor', payload: new Uint8Array([1]), encoding: 'binary', metadata: { id: 'x' } });
    expect(asUserBroadcast(clientMessages.broadcast!)).toEqual({ topic: 'realtime:room', event: 'cursor', payload: { x: 1, y: 2 }, encoding: 'json' });
  });

  it('returns null for other events and envelopes without a string event', () => {
    expect(asUserBroadcast(clientMessages.track!)).toBeNull();
    expect(asUserBroadcast({ topic: 't', event: 'broadcast', payload: { type: 'broadcast', event: 1 } })).toBeNull();
    expect(asUserBroadcast({ topic: 't', event: 'broadcast', payload: [] })).toBeNull();
  });
});
