/**
 * vsn 1.0.0 (docs/realtime-protocol.md §1.2): text frames holding JSON objects. Clients send
 * `{topic, event, payload, ref, join_ref}`; the server sends `{topic, event, payload, ref}` only,
 * like Phoenix's V1 serializer, because a v1 client never needs the join_ref back.
 */
import { RealtimeProtocolError } from '../errors.js';
import type { PhoenixMessage } from './messages.js';
import { frameText, type FrameData, type FrameLimits } from './frame.js';
import { parseClientJson, payloadJson } from './json.js';
import { decodeFailure, validateEnvelope, type DecodeResult } from './result.js';
import { checkOutbound, hasBinaryUserPayload } from './outbound.js';

/** Decodes one v1 frame. Absent `ref` / `join_ref` mean null (phoenix.js omits join_ref on heartbeats). */
export function decodeV1(data: FrameData, isBinary: boolean, limits: FrameLimits): DecodeResult {
  if (isBinary) {
    return decodeFailure(new RealtimeProtocolError('BINARY_NOT_SUPPORTED', 'vsn 1.0.0 carries text frames only; connect with vsn=2.0.0 to send binary'));
  }
  const text = frameText(data, limits);
  if (!text.ok) return decodeFailure(text.error);
  const parsed = parseClientJson(text.value, limits.maxDepth, 'frame');
  if (!parsed.ok) return decodeFailure(parsed.error);
  const frame = parsed.value;
  if (frame === null || typeof frame !== 'object' || Array.isArray(frame)) {
    return decodeFailure(new RealtimeProtocolError('MALFORMED_FRAME', 'a vsn 1.0.0 frame must be a JSON object {topic, event, payload, ref, join_ref}'));
  }
  const { join_ref: joinRef, ref, topic, event, payload } = frame as Record<string, unknown>;
  return validateEnvelope(joinRef, ref, topic, event, payload);
}

/** The v1 text of `message`, built around `payloadText` so fan-out can reuse one serialized payload. */
export function encodeV1Text(message: PhoenixMessage, payloadText: string): string {
  return `{"topic":${JSON.stringify(message.topic)},"event":${JSON.stringify(message.event)},"payload":${payloadText},"ref":${message.ref === null ? 'null' : JSON.stringify(message.ref)}}`;
}

/**
 * Encodes `message` as a v1 text frame, or null for a broadcast with a binary user payload: v1 has
 * no binary frames and Supabase drops those for v1 clients (`UserBroadcast.convert_to_json_broadcast`).
 * Throws only for a message that cannot be on the wire (programmer error).
 */
export function encodeV1(message: PhoenixMessage): string | null {
  checkOutbound(message);
  if (hasBinaryUserPayload(message)) return null;
  return encodeV1Text(message, payloadJson(message.payload));
}
