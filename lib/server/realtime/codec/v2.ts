/**
 * vsn 2.0.0 (docs/realtime-protocol.md §1.3): text frames holding `[join_ref, ref, topic, event,
 * payload]` both ways, binary kind 3 in, binary kind 4 out for binary user broadcasts only.
 */
import { RealtimeProtocolError } from '../errors.js';
import { asUserBroadcast, type PhoenixMessage } from './messages.js';
import { decodeBinaryFrame, encodeUserBroadcastFrame } from './binary.js';
import { frameBytes, frameText, type FrameData, type FrameLimits } from './frame.js';
import { parseClientJson, payloadJson } from './json.js';
import { checkOutbound, hasBinaryUserPayload } from './outbound.js';
import { decodeFailure, identityOf, validateEnvelope, type DecodeResult } from './result.js';

/** Decodes one v2 frame. Arrays longer than 5 are accepted and the rest ignored, as Supabase does. */
export function decodeV2(data: FrameData, isBinary: boolean, limits: FrameLimits): DecodeResult {
  if (isBinary) {
    const bytes = frameBytes(data, limits);
    return bytes.ok ? decodeBinaryFrame(bytes.value, limits) : decodeFailure(bytes.error);
  }
  const text = frameText(data, limits);
  if (!text.ok) return decodeFailure(text.error);
  const parsed = parseClientJson(text.value, limits.maxDepth, 'frame');
  if (!parsed.ok) return decodeFailure(parsed.error);
  const frame = parsed.value;
  if (!Array.isArray(frame) || frame.length < 5) {
    const identity = Array.isArray(frame) ? identityOf(frame[0], frame[1], frame[2]) : {};
    return decodeFailure(new RealtimeProtocolError('MALFORMED_FRAME', 'a vsn 2.0.0 text frame must be a JSON array [join_ref, ref, topic, event, payload]'), identity);
  }
  return validateEnvelope(frame[0], frame[1], frame[2], frame[3], frame[4]);
}

/** The v2 text of `message`, built around `payloadText` so fan-out can reuse one serialized payload. */
export function encodeV2Text(message: PhoenixMessage, payloadText: string): string {
  const joinRef = message.joinRef === null ? 'null' : JSON.stringify(message.joinRef);
  const ref = message.ref === null ? 'null' : JSON.stringify(message.ref);
  return `[${joinRef},${ref},${JSON.stringify(message.topic)},${JSON.stringify(message.event)},${payloadText}]`;
}

/**
 * Encodes `message` as a v2 frame: a kind-4 Buffer for a broadcast whose user payload is bytes,
 * text otherwise. Throws only for a message that cannot be on the wire (programmer error),
 * including a binary broadcast with refs, which kind 4 has no room for.
 */
export function encodeV2(message: PhoenixMessage): string | Buffer {
  checkOutbound(message);
  if (hasBinaryUserPayload(message)) return encodeBinaryBroadcast(message);
  return encodeV2Text(message, payloadJson(message.payload));
}

/** The kind-4 frame of a binary broadcast message. */
export function encodeBinaryBroadcast(message: PhoenixMessage): Buffer {
  if (message.joinRef !== null || message.ref !== null) {
    throw new RealtimeProtocolError('INVALID_OUTBOUND_MESSAGE', 'a binary broadcast is a fan-out frame: joinRef and ref must be null', 'ref');
  }
  const broadcast = asUserBroadcast(message);
  if (broadcast === null) {
    throw new RealtimeProtocolError('INVALID_OUTBOUND_MESSAGE', 'a binary broadcast payload must be {type, event: string, payload}', 'payload');
  }
  return encodeUserBroadcastFrame(broadcast);
}
