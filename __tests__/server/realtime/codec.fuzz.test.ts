/**
 * Random input against the decoder: whatever a client sends, decode returns a valid message or a
 * RealtimeProtocolError with a decode code, never throws, and whatever it accepts can be relayed
 * to every other client without throwing (the server never lets one bad client hurt another).
 */
import { jest } from '@jest/globals';
import fc from 'fast-check';
import SerializerModule from '@supabase/realtime-js/dist/main/lib/serializer.js';
import { createCodec, encodeFanout, type DecodeResult, type RealtimeCodec } from '../../../lib/server/realtime/codec/index.js';
import { RealtimeProtocolError, type RealtimeProtocolErrorCode } from '../../../lib/server/realtime/errors.js';
import type { PhoenixMessage, Vsn } from '../../../lib/server/realtime/codec/messages.js';
import { clientMessages } from './fixtures.js';

type SerializerClass = typeof SerializerModule;
const Serializer: SerializerClass = (SerializerModule as unknown as { default?: SerializerClass }).default ?? SerializerModule;

const DECODE_CODES: RealtimeProtocolErrorCode[] = [
  'FRAME_TOO_LARGE',
  'MALFORMED_JSON',
  'MALFORMED_FRAME',
  'NESTING_TOO_DEEP',
  'UNSUPPORTED_BINARY_KIND',
  'BINARY_NOT_SUPPORTED',
  'INVALID_FIELD',
];

const MAX_FRAME_BYTES = 4096;
const codecs: Record<Vsn, RealtimeCodec> = {
  '1.0.0': createCodec('1.0.0', { maxFrameBytes: MAX_FRAME_BYTES }),
  '2.0.0': createCodec('2.0.0', { maxFrameBytes: MAX_FRAME_BYTES }),
};
const vsnArb = fc.constantFrom<Vsn>('1.0.0', '2.0.0');

/** Decodes and checks the result is one of the two allowed outcomes; returns it for further checks. */
function decodeChecked(codec: RealtimeCodec, data: string | Uint8Array, isBinary: boolean): DecodeResult {
  let result: DecodeResult;
  try {
    result = codec.decode(data, isBinary);
  } catch (error) {
    throw new Error(`decode threw: ${String(error)}`);
  }
  if (result.ok) {
    const m = result.message;
    expect(m.joinRef === null || typeof m.joinRef === 'string').toBe(true);
    expect(m.ref === null || typeof m.ref === 'string').toBe(true);
    expect(typeof m.topic).toBe('string');
    expect(typeof m.event === 'string' && m.event.length > 0).toBe(true);
    expect(m.payload !== null && typeof m.payload === 'object' && !Array.isArray(m.payload)).toBe(true);
    expectRelayable(m);
  } else {
    expect(result.error).toBeInstanceOf(RealtimeProtocolError);
    expect(DECODE_CODES).toContain(result.error.code);
    if (result.ref !== undefined) expect(result.ref === null || typeof result.ref === 'string').toBe(true);
    if (result.topic !== undefined) expect(typeof result.topic).toBe('string');
  }
  return result;
}

/** Anything decode accepts must fan out to both vsns without throwing. */
function expectRelayable(m: PhoenixMessage): void {
  const frames = encodeFanout(m.topic, m.event, m.payload);
  expect(() => {
    frames.frameFor('1.0.0');
    frames.frameFor('2.0.0');
  }).not.toThrow();
}

/** A kind-3 frame with possibly lying header lengths and a random cut. */
const kind3Arb = fc
  .record({
    lengths: fc.array(fc.oneof(fc.integer({ min: 0, max: 16 }), fc.integer({ min: 0, max: 255 })), { minLength: 5, maxLength: 5 }),
    encoding: fc.oneof(fc.constantFrom(0, 1), fc.integer({ min: 0, max: 255 })),
    body: fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc.json({ maxDepth: 4 }).map((text) => new Uint8Array(Buffer.from(text))),
      fc.string({ unit: 'binary', maxLength: 100 }).map((text) => new Uint8Array(Buffer.from(text))),
    ),
    cut: fc.option(fc.nat(), { nil: undefined }),
  })
  .map(({ lengths, encoding, body, cut }) => {
    const frame = new Uint8Array([3, ...lengths, encoding, ...body]);
    return cut === undefined ? frame : frame.subarray(0, cut % (frame.length + 1));
  });

/** A well-formed kind-3 frame: JSON or bytes payload, JSON-object metadata or none. */
const validKind3Arb = fc
  .record({
    joinRef: fc.string({ maxLength: 10 }),
    ref: fc.string({ maxLength: 10 }),
    topic: fc.string({ unit: 'grapheme', maxLength: 60 }),
    event: fc.string({ unit: 'grapheme', maxLength: 60 }),
    meta: fc.option(fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }), { nil: undefined }),
    payload: fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.uint8Array({ maxLength: 64 })),
  })
  .map(({ joinRef, ref, topic, event, meta, payload }) => {
    const strings = [joinRef, ref, topic, event, meta === undefined ? '' : JSON.stringify(meta)].map((s) => Buffer.from(s));
    const binary = payload instanceof Uint8Array;
    const body = binary ? Buffer.from(payload) : Buffer.from(JSON.stringify(payload));
    return { frame: Buffer.concat([Buffer.from([3, ...strings.map((s) => s.length), binary ? 0 : 1]), ...strings, body]), fits: strings.every((s) => s.length <= 255) };
  });

describe('decode never throws', () => {
  it('on random text, as text or binary frames', () => {
    fc.assert(
      fc.property(vsnArb, fc.string({ unit: 'binary', maxLength: 300 }), fc.boolean(), (vsn, text, isBinary) => {
        decodeChecked(codecs[vsn], isBinary ? Buffer.from(text) : text, isBinary);
      }),
      { numRuns: 1000 },
    );
  });

  it('on random JSON values', () => {
    fc.assert(
      fc.property(vsnArb, fc.json({ maxDepth: 6 }), (vsn, text) => {
        decodeChecked(codecs[vsn], text, false);
      }),
      { numRuns: 1000 },
    );
  });

  it('on JSON shaped almost like a frame (random field values in the right places)', () => {
    const field = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.string({ maxLength: 8 }), fc.constant(null), fc.nat());
    fc.assert(
      fc.property(vsnArb, fc.array(field, { minLength: 0, maxLength: 7 }), fc.dictionary(fc.constantFrom('topic', 'event', 'payload', 'ref', 'join_ref', 'x'), field), (vsn, array, object) => {
        decodeChecked(codecs[vsn], JSON.stringify(vsn === '2.0.0' ? array : object), false);
      }),
      { numRuns: 1000 },
    );
  });

  it('on random bytes, including invalid UTF-8, as text or binary frames', () => {
    fc.assert(
      fc.property(vsnArb, fc.uint8Array({ maxLength: 400 }), fc.boolean(), (vsn, bytes, isBinary) => {
        decodeChecked(codecs[vsn], bytes, isBinary);
      }),
      { numRuns: 2000 },
    );
  });

  it('on kind-3 frames with truncated bodies, lying or huge lengths and unknown encodings', () => {
    fc.assert(
      fc.property(kind3Arb, (frame) => {
        decodeChecked(codecs['2.0.0'], frame, true);
      }),
      { numRuns: 3000 },
    );
  });

  it('on valid frames with random bytes flipped or cut off', () => {
    const serializer = new Serializer(['id']);
    const valid: Array<{ vsn: Vsn; frame: Uint8Array; isBinary: boolean }> = [];
    for (const m of Object.values(clientMessages)) {
      const js = { join_ref: m.joinRef, ref: m.ref, topic: m.topic, event: m.event, payload: { ...(m.payload as object), id: 'meta' } };
      const v2 = serializer.encode(js, (f) => f) as string | ArrayBuffer;
      valid.push({ vsn: '2.0.0', frame: typeof v2 === 'string' ? Buffer.from(v2) : new Uint8Array(v2), isBinary: typeof v2 !== 'string' });
      valid.push({ vsn: '1.0.0', frame: Buffer.from(JSON.stringify(js)), isBinary: false });
    }
    fc.assert(
      fc.property(
        fc.constantFrom(...valid),
        fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 4 }),
        fc.option(fc.nat(), { nil: undefined }),
        ({ vsn, frame, isBinary }, flips, cut) => {
          const mutated = Buffer.from(frame);
          for (const { at, value } of flips) mutated[at % mutated.length] = value;
          decodeChecked(codecs[vsn], cut === undefined ? mutated : mutated.subarray(0, cut % (mutated.length + 1)), isBinary);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('on deep nesting anywhere in the payload, refusing only what is over the limit', () => {
    const codec = createCodec('2.0.0', { maxDepth: 64 });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3000 }), fc.constantFrom('[', '{"k":'), fc.boolean(), (depth, open, binary) => {
        const close = open === '[' ? ']' : '}';
        const inner = `${open.repeat(depth)}1${close.repeat(depth)}`;
        if (binary) {
          const frame = Buffer.concat([Buffer.from([3, 0, 0, 1, 1, 0, 1]), Buffer.from('te'), Buffer.from(inner)]);
          const result = decodeChecked(codec, frame, true);
          // The user payload is parsed on its own: 64 levels of it are allowed.
          expect(result.ok).toBe(depth <= 64);
        } else {
          const result = decodeChecked(codec, `[null,null,"t","e",{"a":${inner}}]`, false);
          // Frame array and payload object are two levels of the 64.
          expect(result.ok).toBe(depth + 2 <= 64);
          if (!result.ok) expect(result.error.code).toBe('NESTING_TOO_DEEP');
        }
      }),
      { numRuns: 300 },
    );
  });

  it('relays every well-formed kind-3 frame it accepts, and accepts all whose header strings fit', () => {
    fc.assert(
      fc.property(validKind3Arb, ({ frame, fits }) => {
        const result = decodeChecked(codecs['2.0.0'], frame, true);
        // Re-serialized metadata can outgrow 255 bytes (1e20 → 100000000000000000000); then it is refused.
        if (fits && result.ok === false) expect(result.error.field).toBe('metadata');
      }),
      { numRuns: 1000 },
    );
  });
});

describe('oversized frames', () => {
  it('are refused with FRAME_TOO_LARGE and never reach JSON.parse', () => {
    const parse = jest.spyOn(JSON, 'parse');
    try {
      fc.assert(
        fc.property(vsnArb, fc.integer({ min: MAX_FRAME_BYTES + 1, max: 3 * MAX_FRAME_BYTES }), fc.constantFrom('text', 'bytes', 'binary'), (vsn, size, form) => {
          const text = `[null,"1","t","e",{"s":"${'x'.repeat(size)}"}]`;
          const data = form === 'text' ? text : Buffer.from(text);
          const result = codecs[vsn].decode(data, form === 'binary');
          expect(result.ok).toBe(false);
          if (!result.ok) expect(result.error.code).toBe(vsn === '1.0.0' && form === 'binary' ? 'BINARY_NOT_SUPPORTED' : 'FRAME_TOO_LARGE');
        }),
        { numRuns: 100 },
      );
      expect(parse).not.toHaveBeenCalled();
    } finally {
      parse.mockRestore();
    }
  });
});

describe('round trips of random messages', () => {
  const messageArb = fc.record({
    joinRef: fc.option(fc.string({ maxLength: 10 }), { nil: null }),
    ref: fc.option(fc.string({ maxLength: 10 }), { nil: null }),
    topic: fc.string({ maxLength: 40 }),
    event: fc.string({ minLength: 1, maxLength: 20 }),
    payload: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 }),
  });
  const codec = { '1.0.0': createCodec('1.0.0'), '2.0.0': createCodec('2.0.0') };

  it('encode writes exactly what JSON.stringify of the wire shape writes, and decode reads it back', () => {
    fc.assert(
      fc.property(messageArb, (m) => {
        const wireV2 = JSON.stringify([m.joinRef, m.ref, m.topic, m.event, m.payload]);
        const wireV1 = JSON.stringify({ topic: m.topic, event: m.event, payload: m.payload, ref: m.ref });
        expect(codec['2.0.0'].encode(m)).toBe(wireV2);
        expect(codec['1.0.0'].encode(m)).toBe(wireV1);
        const payload = JSON.parse(JSON.stringify(m.payload)) as Record<string, unknown>;
        expect(codec['2.0.0'].decode(wireV2, false)).toEqual({ ok: true, message: { ...m, payload } });
        expect(codec['1.0.0'].decode(wireV1, false)).toEqual({ ok: true, message: { ...m, joinRef: null, payload } });
      }),
      { numRuns: 1000 },
    );
  });
});
