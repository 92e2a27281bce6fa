/**
 * Phoenix frames ⇄ messages for vsn 1.0.0 (JSON objects) and 2.0.0 (JSON arrays plus the binary
 * user-broadcast kinds 3 and 4), docs/realtime-protocol.md §1.2–1.3. Pure and browser-safe: bytes are
 * ArrayBuffers, never Node Buffers. Bad input is a `{ ok: false }` result, never a throw.
 */

import {
  BINARY_KIND,
  BROADCAST_HEADER_BYTES,
  MAX_HEADER_STRING_BYTES,
  PAYLOAD_ENCODING,
  PUSH_HEADER_BYTES,
  VSNS,
  type PhoenixMessage,
  type Vsn,
} from '../../protocol/phoenix.js';

// The wire model both sides share (lib/protocol), re-exported for the client's modules.
export { BINARY_KIND, MAX_HEADER_STRING_BYTES, PAYLOAD_ENCODING, VSNS };
export type { PhoenixMessage, Vsn };

/** A WebSocket frame: text or binary. */
export type Frame = string | ArrayBuffer;

export type FrameErrorCode =
  | 'INVALID_JSON'
  | 'INVALID_SHAPE'
  | 'INVALID_FIELD'
  | 'UNSUPPORTED_FRAME_TYPE'
  | 'UNSUPPORTED_BINARY_KIND'
  | 'TRUNCATED_BINARY'
  | 'HEADER_TOO_LONG'
  | 'UNENCODABLE_PAYLOAD';

export interface FrameError {
  readonly code: FrameErrorCode;
  readonly message: string;
}

export type DecodeResult = { ok: true; message: PhoenixMessage } | { ok: false; error: FrameError };
export type EncodeResult = { ok: true; frame: Frame } | { ok: false; error: FrameError };


const fail = (code: FrameErrorCode, message: string): { ok: false; error: FrameError } => ({ ok: false, error: { code, message } });

/**
 * Encodes `message` for `vsn`. With `binary: true` (v2 only) a `broadcast` whose payload is
 * `{ type: 'broadcast', event, payload }` becomes a kind-3 frame: an ArrayBuffer or typed-array user
 * payload is sent as bytes (encoding 0), anything else as JSON (encoding 1).
 */
export function encodeFrame(vsn: Vsn, message: PhoenixMessage, options: { binary?: boolean } = {}): EncodeResult {
  if (message.payload === undefined) return fail('UNENCODABLE_PAYLOAD', 'payload must be a JSON value, got undefined');
  if (options.binary) {
    if (vsn !== '2.0.0') return fail('UNSUPPORTED_FRAME_TYPE', `binary frames need vsn 2.0.0, not ${vsn}`);
    return encodeUserBroadcastPush(message);
  }
  let text: string | undefined;
  try {
    text =
      vsn === '1.0.0'
        ? JSON.stringify({ topic: message.topic, event: message.event, payload: message.payload, ref: message.ref, join_ref: message.joinRef })
        : JSON.stringify([message.joinRef, message.ref, message.topic, message.event, message.payload]);
  } catch (error) {
    return fail('UNENCODABLE_PAYLOAD', `payload cannot be serialized as JSON: ${errorMessage(error)}`);
  }
  return { ok: true, frame: text };
}

/** Encodes a kind-3 user broadcast push (byte layout in docs/realtime-protocol.md §1.3). */
export function encodeUserBroadcastPush(message: PhoenixMessage): EncodeResult {
  if (message.event !== 'broadcast') return fail('UNSUPPORTED_FRAME_TYPE', `only broadcast messages have a binary form, not ${JSON.stringify(message.event)}`);
  const broadcast = message.payload;
  if (!isRecord(broadcast) || typeof broadcast.event !== 'string') {
    return fail('INVALID_FIELD', 'a binary broadcast payload must be { type: "broadcast", event: string, payload }');
  }
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  for (const [name, value] of [
    ['join_ref', message.joinRef ?? ''],
    ['ref', message.ref ?? ''],
    ['topic', message.topic],
    ['event', broadcast.event],
  ] as const) {
    const bytes = encoder.encode(value);
    if (bytes.length > MAX_HEADER_STRING_BYTES) return fail('HEADER_TOO_LONG', `${name} is ${bytes.length} bytes; binary headers hold at most ${MAX_HEADER_STRING_BYTES}`);
    parts.push(bytes);
  }
  const userPayload = broadcast.payload;
  let body: Uint8Array;
  let encoding: number;
  if (userPayload instanceof ArrayBuffer) {
    body = new Uint8Array(userPayload);
    encoding = PAYLOAD_ENCODING.binary;
  } else if (ArrayBuffer.isView(userPayload)) {
    body = new Uint8Array(userPayload.buffer, userPayload.byteOffset, userPayload.byteLength);
    encoding = PAYLOAD_ENCODING.binary;
  } else {
    let text: string | undefined;
    try {
      text = JSON.stringify(userPayload ?? {});
    } catch (error) {
      return fail('UNENCODABLE_PAYLOAD', `broadcast payload cannot be serialized as JSON: ${errorMessage(error)}`);
    }
    if (text === undefined) return fail('UNENCODABLE_PAYLOAD', 'broadcast payload must be a JSON value');
    body = encoder.encode(text);
    encoding = PAYLOAD_ENCODING.json;
  }
  const [joinRef, ref, topic, event] = parts as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  const frame = new Uint8Array(PUSH_HEADER_BYTES + joinRef.length + ref.length + topic.length + event.length + body.length);
  // Metadata stays empty: realtime-js sends only whitelisted keys, and its default whitelist is empty.
  frame.set([BINARY_KIND.userBroadcastPush, joinRef.length, ref.length, topic.length, event.length, 0, encoding]);
  let offset = PUSH_HEADER_BYTES;
  for (const part of [joinRef, ref, topic, event, body]) {
    frame.set(part, offset);
    offset += part.length;
  }
  return { ok: true, frame: frame.buffer };
}

/** Decodes one inbound frame. Binary frames (v2 only) must be kind 4. */
export function decodeFrame(vsn: Vsn, data: unknown): DecodeResult {
  if (typeof data === 'string') return vsn === '1.0.0' ? decodeV1Text(data) : decodeV2Text(data);
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : null;
  if (bytes === null) return fail('UNSUPPORTED_FRAME_TYPE', `a frame must be a string or an ArrayBuffer, got ${kindOf(data)}`);
  if (vsn === '1.0.0') return fail('UNSUPPORTED_FRAME_TYPE', 'vsn 1.0.0 has no binary frames');
  return decodeUserBroadcast(bytes);
}

/** Decodes a kind-4 user broadcast into `{ type: 'broadcast', event, payload, meta? }` on event `broadcast`. */
export function decodeUserBroadcast(bytes: Uint8Array): DecodeResult {
  if (bytes.length === 0) return fail('TRUNCATED_BINARY', 'empty binary frame');
  const kind = bytes[0]!;
  if (kind !== BINARY_KIND.userBroadcast) return fail('UNSUPPORTED_BINARY_KIND', `binary frame kind ${kind} is not accepted; servers send only kind 4 (user broadcast)`);
  if (bytes.length < BROADCAST_HEADER_BYTES) return fail('TRUNCATED_BINARY', `a kind-4 header needs ${BROADCAST_HEADER_BYTES} bytes, got ${bytes.length}`);
  const [topicLength, eventLength, metadataLength, encoding] = [bytes[1]!, bytes[2]!, bytes[3]!, bytes[4]!];
  if (encoding !== PAYLOAD_ENCODING.binary && encoding !== PAYLOAD_ENCODING.json) return fail('INVALID_FIELD', `payload_encoding must be 0 or 1, got ${encoding}`);
  const bodyStart = BROADCAST_HEADER_BYTES + topicLength + eventLength + metadataLength;
  if (bytes.length < bodyStart) return fail('TRUNCATED_BINARY', `header announces ${bodyStart} bytes, frame has ${bytes.length}`);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let offset = BROADCAST_HEADER_BYTES;
  const take = (length: number) => bytes.subarray(offset, (offset += length));
  let topic: string, event: string, metadata: string;
  try {
    topic = decoder.decode(take(topicLength));
    event = decoder.decode(take(eventLength));
    metadata = decoder.decode(take(metadataLength));
  } catch {
    return fail('INVALID_FIELD', 'binary header strings must be UTF-8');
  }
  const body = bytes.slice(bodyStart);
  const broadcast: { type: 'broadcast'; event: string; payload: unknown; meta?: unknown } = { type: 'broadcast', event, payload: body.buffer };
  if (encoding === PAYLOAD_ENCODING.json) {
    let text: string;
    try {
      text = decoder.decode(body);
    } catch {
      return fail('INVALID_JSON', 'broadcast payload is not UTF-8');
    }
    const parsed = parseText(text, 'broadcast payload');
    if (!parsed.ok) return parsed;
    broadcast.payload = parsed.value;
  }
  if (metadataLength > 0) {
    const parsed = parseText(metadata, 'metadata');
    if (!parsed.ok) return parsed;
    broadcast.meta = parsed.value;
  }
  return { ok: true, message: { joinRef: null, ref: null, topic, event: 'broadcast', payload: broadcast } };
}

function decodeV1Text(text: string): DecodeResult {
  const parsed = parseText(text);
  if (!parsed.ok) return parsed;
  const value = parsed.value;
  if (!isRecord(value)) return fail('INVALID_SHAPE', `a vsn 1.0.0 frame must be a JSON object, got ${kindOf(value)}`);
  // V1 servers drop join_ref from their frames, so a missing one means null.
  return message(value.join_ref ?? null, value.ref ?? null, value.topic, value.event, value.payload);
}

function decodeV2Text(text: string): DecodeResult {
  const parsed = parseText(text);
  if (!parsed.ok) return parsed;
  const value = parsed.value;
  if (!Array.isArray(value) || value.length !== 5) return fail('INVALID_SHAPE', 'a vsn 2.0.0 text frame must be a JSON array [join_ref, ref, topic, event, payload]');
  const [joinRef, ref, topic, event, payload] = value as [unknown, unknown, unknown, unknown, unknown];
  return message(joinRef, ref, topic, event, payload);
}

function message(joinRef: unknown, ref: unknown, topic: unknown, event: unknown, payload: unknown): DecodeResult {
  if (joinRef !== null && typeof joinRef !== 'string') return fail('INVALID_FIELD', `join_ref must be a string or null, got ${kindOf(joinRef)}`);
  if (ref !== null && typeof ref !== 'string') return fail('INVALID_FIELD', `ref must be a string or null, got ${kindOf(ref)}`);
  if (typeof topic !== 'string') return fail('INVALID_FIELD', `topic must be a string, got ${kindOf(topic)}`);
  if (typeof event !== 'string' || event.length === 0) return fail('INVALID_FIELD', `event must be a non-empty string, got ${kindOf(event)}`);
  if (payload === undefined) return fail('INVALID_FIELD', 'payload is missing');
  return { ok: true, message: { joinRef, ref, topic, event, payload } };
}

function parseText(text: string, what = 'frame'): { ok: true; value: unknown } | { ok: false; error: FrameError } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return fail('INVALID_JSON', `${what} is not JSON: ${errorMessage(error)}`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
