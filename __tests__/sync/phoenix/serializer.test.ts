/**
 * The client frame codec against @supabase/realtime-js's own v2 Serializer (what the stock client
 * sends and accepts) and against our server's codec (what our server accepts and sends).
 */
import fc from 'fast-check';
import SerializerModule from '@supabase/realtime-js/dist/main/lib/serializer.js';
import { createCodec, encodeUserBroadcastFrame } from '../../../lib/server/realtime/codec/index.js';
import { decodeFrame, encodeFrame, type PhoenixMessage } from '../../../lib/sync/phoenix/serializer.js';

// Jest's ESM loader hands a CommonJS module's `exports` object to a default import.
type SerializerClass = typeof SerializerModule;
const Serializer: SerializerClass = (SerializerModule as unknown as { default?: SerializerClass }).default ?? SerializerModule;
const js = new Serializer();

// realtime-js's messages name the join ref as on the wire (`join_ref`); ours (lib/protocol) `joinRef`.
const jsEncode = ({ joinRef, ...rest }: PhoenixMessage) => js.encode({ join_ref: joinRef, ...rest } as never, (frame: string | ArrayBuffer) => frame) as string | ArrayBuffer;
const jsDecode = (frame: string | ArrayBuffer) => {
  const { join_ref: joinRef, ...rest } = js.decode(frame, (message: unknown) => message) as unknown as { join_ref: string | null } & Omit<PhoenixMessage, 'joinRef'>;
  return { joinRef, ...rest };
};
const bytesOf = (frame: string | ArrayBuffer) => Array.from(new Uint8Array(frame as ArrayBuffer));
const toArrayBuffer = (b: Uint8Array) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;

const ref = fc.option(fc.stringMatching(/^[0-9]{1,6}$/), { nil: null });
const json = fc.jsonValue().map((v) => JSON.parse(JSON.stringify(v)) as unknown);
const message = fc.record({
  joinRef: ref,
  ref,
  topic: fc.string({ maxLength: 40 }),
  event: fc.string({ minLength: 1, maxLength: 20 }).filter((e) => e !== 'broadcast'),
  payload: fc.dictionary(fc.string({ maxLength: 8 }), json, { maxKeys: 4 }),
});

describe('text frames', () => {
  it('v2 encodes exactly the array realtime-js encodes, and both decoders agree on it', () => {
    fc.assert(
      fc.property(message, (m) => {
        const ours = encodeFrame('2.0.0', m);
        expect(ours).toEqual({ ok: true, frame: jsEncode(m) });
        const frame = (ours as { frame: string }).frame;
        expect(decodeFrame('2.0.0', frame)).toEqual({ ok: true, message: m });
        expect(decodeFrame('2.0.0', frame)).toEqual({ ok: true, message: jsDecode(frame) });
      }),
    );
  });

  it('v1 round-trips as a JSON object with join_ref, and a frame without join_ref (what V1 servers send) decodes it as null', () => {
    fc.assert(
      fc.property(message, (m) => {
        const encoded = encodeFrame('1.0.0', m);
        if (!encoded.ok) throw new Error(encoded.error.message);
        expect(JSON.parse(encoded.frame as string)).toEqual({ topic: m.topic, event: m.event, payload: m.payload, ref: m.ref, join_ref: m.joinRef });
        expect(decodeFrame('1.0.0', encoded.frame)).toEqual({ ok: true, message: m });
      }),
    );
    expect(decodeFrame('1.0.0', JSON.stringify({ topic: 't', event: 'phx_reply', payload: {}, ref: '3' }))).toEqual({
      ok: true,
      message: { joinRef: null, ref: '3', topic: 't', event: 'phx_reply', payload: {} },
    });
  });

  it('our server decodes what we encode, in both versions', () => {
    fc.assert(
      fc.property(message, fc.constantFrom('1.0.0' as const, '2.0.0' as const), (m, vsn) => {
        const encoded = encodeFrame(vsn, m);
        if (!encoded.ok) throw new Error(encoded.error.message);
        const decoded = createCodec(vsn).decode(encoded.frame as string, false);
        expect(decoded).toMatchObject({ ok: true, message: { joinRef: m.joinRef, ref: m.ref, topic: m.topic, event: m.event, payload: m.payload } });
      }),
    );
  });

  it('a payload JSON cannot carry is an error result', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(encodeFrame('2.0.0', { joinRef: null, ref: '1', topic: 't', event: 'e', payload: cyclic })).toMatchObject({ ok: false, error: { code: 'UNENCODABLE_PAYLOAD' } });
    expect(encodeFrame('2.0.0', { joinRef: null, ref: '1', topic: 't', event: 'e', payload: undefined })).toMatchObject({ ok: false, error: { code: 'UNENCODABLE_PAYLOAD' } });
  });
});

describe('binary kind 3 (user broadcast push)', () => {
  const push = (payload: unknown): PhoenixMessage => ({ joinRef: '4', ref: '17', topic: 'realtime:room', event: 'broadcast', payload: { type: 'broadcast', event: 'cursor', payload } });

  it('a JSON payload: byte-identical to realtime-js (null becomes {} as there), and our server decodes it to the text form', () => {
    fc.assert(
      fc.property(json, (userPayload) => {
        const m = push(userPayload);
        const ours = encodeFrame('2.0.0', m, { binary: true });
        if (!ours.ok) throw new Error(ours.error.message);
        expect(bytesOf(ours.frame)).toEqual(bytesOf(jsEncode(m)));
        expect(createCodec('2.0.0').decode(Buffer.from(ours.frame as ArrayBuffer), true)).toMatchObject({ ok: true, message: { topic: 'realtime:room', event: 'broadcast', payload: { type: 'broadcast', event: 'cursor', payload: userPayload ?? {} } } });
      }),
    );
  });

  it('an ArrayBuffer or typed-array payload is sent as bytes (encoding 0), byte-identical to realtime-js', () => {
    const bytes = new Uint8Array([0, 1, 2, 250, 255]);
    const ours = encodeFrame('2.0.0', push(bytes.buffer), { binary: true });
    if (!ours.ok) throw new Error(ours.error.message);
    expect(bytesOf(ours.frame)).toEqual(bytesOf(jsEncode(push(bytes.buffer))));
    expect(new Uint8Array(ours.frame as ArrayBuffer)[6]).toBe(0);
    const view = new Uint8Array([9, 9, 0, 1, 2, 250, 255, 9]).subarray(2, 7);
    const fromView = encodeFrame('2.0.0', push(view), { binary: true });
    expect(fromView.ok && bytesOf(fromView.frame)).toEqual(bytesOf(ours.frame));
  });

  it('header strings are measured in UTF-8 bytes and refused beyond 255', () => {
    const long = encodeFrame('2.0.0', { ...push({}), topic: 'é'.repeat(128) }, { binary: true });
    expect(long).toMatchObject({ ok: false, error: { code: 'HEADER_TOO_LONG' } });
    const fits = encodeFrame('2.0.0', { ...push({}), topic: 'é'.repeat(127) }, { binary: true });
    expect(fits.ok && new Uint8Array(fits.frame as ArrayBuffer)[3]).toBe(254);
  });

  it('is refused on v1, for other events and for payloads without a string event', () => {
    expect(encodeFrame('1.0.0', push({}), { binary: true })).toMatchObject({ ok: false, error: { code: 'UNSUPPORTED_FRAME_TYPE' } });
    expect(encodeFrame('2.0.0', { ...push({}), event: 'presence' }, { binary: true })).toMatchObject({ ok: false, error: { code: 'UNSUPPORTED_FRAME_TYPE' } });
    expect(encodeFrame('2.0.0', { ...push({}), payload: { type: 'broadcast' } }, { binary: true })).toMatchObject({ ok: false, error: { code: 'INVALID_FIELD' } });
  });
});

describe('binary kind 4 (user broadcast)', () => {
  it('decodes what our server encodes exactly as realtime-js does (JSON and binary payloads, with metadata)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), fc.string({ maxLength: 30 }), json, fc.option(fc.dictionary(fc.stringMatching(/^[a-z]{1,5}$/), fc.integer(), { maxKeys: 3 }), { nil: undefined }), (topic, event, payload, metadata) => {
        const frame = toArrayBuffer(encodeUserBroadcastFrame({ topic, event, encoding: 'json', payload, ...(metadata !== undefined && { metadata }) } as never));
        const ours = decodeFrame('2.0.0', frame);
        expect(ours).toEqual({ ok: true, message: jsDecode(frame) });
        expect(ours).toMatchObject({ ok: true, message: { topic, event: 'broadcast', payload: { type: 'broadcast', event, payload } } });
      }),
    );
    const bytes = new Uint8Array([1, 2, 3, 255]);
    const frame = toArrayBuffer(encodeUserBroadcastFrame({ topic: 'realtime:r', event: 'blob', encoding: 'binary', payload: bytes } as never));
    const ours = decodeFrame('2.0.0', frame);
    expect(ours).toEqual({ ok: true, message: jsDecode(frame) });
    const payload = (ours as { message: { payload: { payload: ArrayBuffer } } }).message.payload.payload;
    expect(payload).toBeInstanceOf(ArrayBuffer);
    expect(Array.from(new Uint8Array(payload))).toEqual([1, 2, 3, 255]);
  });

  it('accepts a Node Buffer or any typed-array view as well as an ArrayBuffer', () => {
    const buffer = encodeUserBroadcastFrame({ topic: 't', event: 'e', encoding: 'json', payload: { a: 1 } } as never);
    expect(decodeFrame('2.0.0', buffer)).toEqual(decodeFrame('2.0.0', toArrayBuffer(buffer)));
  });
});

describe('bad frames are error results, never throws', () => {
  const cases: Array<[string, '1.0.0' | '2.0.0', unknown, string]> = [
    ['not JSON', '2.0.0', '[1,', 'INVALID_JSON'],
    ['v2 object instead of array', '2.0.0', '{"topic":"t"}', 'INVALID_SHAPE'],
    ['v2 array of 4', '2.0.0', '[null,null,"t","e"]', 'INVALID_SHAPE'],
    ['v1 array', '1.0.0', '[null,null,"t","e",{}]', 'INVALID_SHAPE'],
    ['numeric ref', '2.0.0', '[null,1,"t","e",{}]', 'INVALID_FIELD'],
    ['missing topic', '1.0.0', '{"event":"e","payload":{},"ref":null}', 'INVALID_FIELD'],
    ['empty event', '2.0.0', '[null,null,"t","",{}]', 'INVALID_FIELD'],
    ['missing payload', '1.0.0', '{"topic":"t","event":"e","ref":null}', 'INVALID_FIELD'],
    ['binary on v1', '1.0.0', new Uint8Array([4, 0, 0, 0, 1]).buffer, 'UNSUPPORTED_FRAME_TYPE'],
    ['a Blob-like object', '2.0.0', { size: 3 }, 'UNSUPPORTED_FRAME_TYPE'],
    ['empty binary', '2.0.0', new ArrayBuffer(0), 'TRUNCATED_BINARY'],
    ['kind 3 from a server', '2.0.0', new Uint8Array([3, 0, 0, 0, 0, 0, 1]).buffer, 'UNSUPPORTED_BINARY_KIND'],
    ['kind 0', '2.0.0', new Uint8Array([0]).buffer, 'UNSUPPORTED_BINARY_KIND'],
    ['short header', '2.0.0', new Uint8Array([4, 1, 1]).buffer, 'TRUNCATED_BINARY'],
    ['lengths beyond the frame', '2.0.0', new Uint8Array([4, 10, 0, 0, 1, 65]).buffer, 'TRUNCATED_BINARY'],
    ['bad encoding', '2.0.0', new Uint8Array([4, 0, 0, 0, 7]).buffer, 'INVALID_FIELD'],
    ['JSON payload not JSON', '2.0.0', new Uint8Array([4, 0, 0, 0, 1, 123]).buffer, 'INVALID_JSON'],
    ['metadata not JSON', '2.0.0', new Uint8Array([4, 0, 0, 1, 0, 123]).buffer, 'INVALID_JSON'],
    ['topic not UTF-8', '2.0.0', new Uint8Array([4, 1, 0, 0, 0, 0xff]).buffer, 'INVALID_FIELD'],
  ];
  it.each(cases)('%s', (_name, vsn, frame, code) => {
    const result = decodeFrame(vsn, frame);
    expect(result).toMatchObject({ ok: false, error: { code } });
    expect((result as { error: { message: string } }).error.message.length).toBeGreaterThan(0);
  });

  it('arbitrary bytes and strings never throw', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.uint8Array().map((b) => toArrayBuffer(b))), fc.constantFrom('1.0.0' as const, '2.0.0' as const), (frame, vsn) => {
        const result = decodeFrame(vsn, frame);
        expect(typeof result.ok).toBe('boolean');
      }),
    );
  });
});
