/**
 * vsn 2.0.0 binary frames (docs/realtime-protocol.md §1.3). Clients may send only kind 3 (user
 * broadcast push); the server sends only kind 4 (user broadcast), and only for binary user payloads.
 * Header lengths are single bytes, so every header string is at most 255 UTF-8 bytes.
 */
import { Buffer, isUtf8 } from 'node:buffer';
import { RealtimeProtocolError } from '../errors.js';
import { EVENT, isBinaryPayload, type InboundMessage, type UserBroadcast } from './messages.js';
import type { FrameLimits } from './frame.js';
import { parseClientJson } from './json.js';
import { decodeFailure, type DecodeResult, type FrameIdentity } from './result.js';

import { BINARY_KIND, BROADCAST_HEADER_BYTES, MAX_HEADER_STRING_BYTES, PAYLOAD_ENCODING, PUSH_HEADER_BYTES } from '../../../protocol/phoenix.js';

export { BINARY_KIND, MAX_HEADER_STRING_BYTES, PAYLOAD_ENCODING };

const KIND_NAMES: Record<number, string> = { 0: 'push', 1: 'reply', 2: 'broadcast', 4: 'user broadcast' };

/** Decodes a client's binary frame: kind 3 becomes a `broadcast` message, every other kind is refused. */
export function decodeBinaryFrame(bytes: Buffer, limits: FrameLimits): DecodeResult {
  if (bytes.length === 0) return decodeFailure(new RealtimeProtocolError('MALFORMED_FRAME', 'empty binary frame'));
  const kind = bytes[0]!;
  if (kind !== BINARY_KIND.userBroadcastPush) {
    const name = KIND_NAMES[kind];
    const what = name === undefined ? `unknown binary frame kind ${kind}` : `binary frame kind ${kind} (${name})`;
    return decodeFailure(new RealtimeProtocolError('UNSUPPORTED_BINARY_KIND', `${what} is not accepted; clients may only send kind 3 (user broadcast push)`));
  }
  return decodeUserBroadcastPush(bytes, limits);
}

function decodeUserBroadcastPush(bytes: Buffer, limits: FrameLimits): DecodeResult {
  if (bytes.length < PUSH_HEADER_BYTES) {
    return decodeFailure(new RealtimeProtocolError('MALFORMED_FRAME', `user broadcast push header needs ${PUSH_HEADER_BYTES} bytes, frame has ${bytes.length}`));
  }
  const joinRefSize = bytes[1]!;
  const refSize = bytes[2]!;
  const topicSize = bytes[3]!;
  const eventSize = bytes[4]!;
  const metadataSize = bytes[5]!;
  const encoding = bytes[6]!;
  const stringsEnd = PUSH_HEADER_BYTES + joinRefSize + refSize + topicSize + eventSize + metadataSize;
  if (stringsEnd > bytes.length) {
    return decodeFailure(new RealtimeProtocolError('MALFORMED_FRAME', `user broadcast push header announces ${stringsEnd} bytes, frame has ${bytes.length}`));
  }

  // Read the identifying strings first so that any later error can still be answered.
  let offset = PUSH_HEADER_BYTES;
  const identity: FrameIdentity = {};
  const field = (name: string, size: number): string | RealtimeProtocolError => {
    const slice = bytes.subarray(offset, offset + size);
    offset += size;
    if (!isUtf8(slice)) return new RealtimeProtocolError('INVALID_FIELD', `${name} is not valid UTF-8`, name);
    return slice.toString('utf8');
  };
  // realtime-js writes '' for a null ref: a binary header cannot say null.
  const joinRef = field('join_ref', joinRefSize);
  if (typeof joinRef === 'string') identity.joinRef = joinRef === '' ? null : joinRef;
  const ref = field('ref', refSize);
  if (typeof ref === 'string') identity.ref = ref === '' ? null : ref;
  const topic = field('topic', topicSize);
  if (typeof topic === 'string') identity.topic = topic;
  const event = field('user_event', eventSize);
  const metadataStart = offset;
  offset += metadataSize;
  for (const value of [joinRef, ref, topic, event]) {
    if (value instanceof RealtimeProtocolError) return decodeFailure(value, identity);
  }

  if (encoding !== PAYLOAD_ENCODING.binary && encoding !== PAYLOAD_ENCODING.json) {
    return decodeFailure(new RealtimeProtocolError('INVALID_FIELD', `payload_encoding must be 0 (binary) or 1 (JSON), got ${encoding}`, 'payload_encoding'), identity);
  }

  // `payload` is set below; declared here so keys come out in a text broadcast's order.
  const envelope: Record<string, unknown> = { type: 'broadcast', event, payload: undefined };
  if (metadataSize > 0) {
    const meta = decodeMetadata(bytes.subarray(metadataStart, metadataStart + metadataSize), limits);
    if (meta instanceof RealtimeProtocolError) return decodeFailure(meta, identity);
    envelope.meta = meta;
  }

  const body = bytes.subarray(stringsEnd);
  if (encoding === PAYLOAD_ENCODING.json) {
    if (!isUtf8(body)) return decodeFailure(new RealtimeProtocolError('INVALID_FIELD', 'JSON user payload is not valid UTF-8', 'payload'), identity);
    const parsed = parseClientJson(body.toString('utf8'), limits.maxDepth, 'user payload');
    if (!parsed.ok) return decodeFailure(parsed.error, identity);
    envelope.payload = parsed.value;
  } else {
    // A copy: the message may outlive the frame (relay queues, resume log) and must not pin its buffer.
    envelope.payload = new Uint8Array(body);
  }

  const message: InboundMessage = { joinRef: identity.joinRef ?? null, ref: identity.ref ?? null, topic: topic as string, event: EVENT.broadcast, payload: envelope };
  return { ok: true, message };
}

/**
 * Metadata must be a JSON object that re-serializes within 255 bytes: it is relayed in kind-4
 * headers, and `1e20` parses to a number whose JSON is 21 bytes, so raw length alone is no guarantee.
 */
function decodeMetadata(bytes: Buffer, limits: FrameLimits): Record<string, unknown> | RealtimeProtocolError {
  if (!isUtf8(bytes)) return new RealtimeProtocolError('INVALID_FIELD', 'metadata is not valid UTF-8', 'metadata');
  const parsed = parseClientJson(bytes.toString('utf8'), limits.maxDepth, 'metadata');
  if (!parsed.ok) return parsed.error;
  const meta = parsed.value;
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) {
    return new RealtimeProtocolError('INVALID_FIELD', 'metadata must be a JSON object', 'metadata');
  }
  if (Buffer.byteLength(JSON.stringify(meta)) > MAX_HEADER_STRING_BYTES) {
    return new RealtimeProtocolError('INVALID_FIELD', `metadata must serialize to at most ${MAX_HEADER_STRING_BYTES} bytes`, 'metadata');
  }
  return meta as Record<string, unknown>;
}

/**
 * Encodes a kind-4 frame. Throws (programmer error) when a header string exceeds 255 bytes or the
 * payload does not match `encoding`; user broadcasts decoded from kind 3 always fit.
 */
export function encodeUserBroadcastFrame(broadcast: UserBroadcast): Buffer {
  const topic = headerString(broadcast.topic, 'topic');
  const event = headerString(broadcast.event, 'event');
  const metadata = broadcast.metadata === undefined ? EMPTY : headerString(JSON.stringify(broadcast.metadata), 'metadata');
  let body: Buffer;
  if (broadcast.encoding === 'binary') {
    const payload = broadcast.payload;
    if (!isBinaryPayload(payload)) {
      throw new RealtimeProtocolError('INVALID_OUTBOUND_MESSAGE', 'a binary user broadcast needs a Uint8Array or ArrayBuffer payload', 'payload');
    }
    body = payload instanceof ArrayBuffer ? Buffer.from(payload) : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  } else {
    const text = JSON.stringify(broadcast.payload);
    if (text === undefined) throw new RealtimeProtocolError('INVALID_OUTBOUND_MESSAGE', 'a JSON user broadcast needs a JSON payload', 'payload');
    body = Buffer.from(text, 'utf8');
  }
  const frame = Buffer.allocUnsafe(BROADCAST_HEADER_BYTES + topic.length + event.length + metadata.length + body.length);
  frame[0] = BINARY_KIND.userBroadcast;
  frame[1] = topic.length;
  frame[2] = event.length;
  frame[3] = metadata.length;
  frame[4] = broadcast.encoding === 'binary' ? PAYLOAD_ENCODING.binary : PAYLOAD_ENCODING.json;
  let offset = BROADCAST_HEADER_BYTES;
  for (const part of [topic, event, metadata, body]) offset += part.copy(frame, offset);
  return frame;
}

const EMPTY = Buffer.alloc(0);

function headerString(value: unknown, name: string): Buffer {
  if (typeof value !== 'string') throw new RealtimeProtocolError('INVALID_OUTBOUND_MESSAGE', `${name} must be a string`, name);
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > MAX_HEADER_STRING_BYTES) {
    throw new RealtimeProtocolError('INVALID_OUTBOUND_MESSAGE', `${name} is ${bytes.length} bytes; binary headers hold at most ${MAX_HEADER_STRING_BYTES}`, name);
  }
  return bytes;
}
