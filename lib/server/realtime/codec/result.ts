import { kindOf, RealtimeProtocolError } from '../errors.js';
import type { InboundMessage } from './messages.js';

/** What `decode` could read of a rejected frame, so the server can address an error reply to the push. */
export interface FrameIdentity {
  joinRef?: string | null;
  ref?: string | null;
  topic?: string;
}

/** A rejected frame: the error plus whatever identifying fields were valid. */
export interface DecodeFailure extends FrameIdentity {
  ok: false;
  error: RealtimeProtocolError;
}

/** Outcome of decoding one frame; decode never throws. */
export type DecodeResult = { ok: true; message: InboundMessage } | DecodeFailure;

/** A failure carrying the valid parts of `identity`. */
export function decodeFailure(error: RealtimeProtocolError, identity: FrameIdentity = {}): DecodeFailure {
  return { ok: false, error, ...identity };
}

/**
 * Refs are strings in every client we know (phoenix.js `makeRef`), but the Phoenix server takes any
 * JSON, so integer refs are accepted and echoed as their decimal string; phoenix.js matches replies
 * by `chan_reply_${ref}`, which is the same for both.
 */
export function readRef(value: unknown): string | null | undefined {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return undefined;
}

/** The valid identifying fields among raw frame fields, for error replies. */
export function identityOf(rawJoinRef: unknown, rawRef: unknown, rawTopic: unknown): FrameIdentity {
  const identity: FrameIdentity = {};
  const joinRef = readRef(rawJoinRef);
  if (joinRef !== undefined) identity.joinRef = joinRef;
  const ref = readRef(rawRef);
  if (ref !== undefined) identity.ref = ref;
  if (typeof rawTopic === 'string') identity.topic = rawTopic;
  return identity;
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Validates the five fields every vsn carries. Client payloads must be JSON objects: every push
 * realtime-js and phoenix.js make has one, and handlers can then read fields without type checks.
 */
export function validateEnvelope(rawJoinRef: unknown, rawRef: unknown, topic: unknown, event: unknown, payload: unknown): DecodeResult {
  const joinRef = readRef(rawJoinRef);
  const ref = readRef(rawRef);
  const invalid = (field: string, expected: string, value: unknown): DecodeFailure =>
    decodeFailure(new RealtimeProtocolError('INVALID_FIELD', `${field} must be ${expected}, got ${kindOf(value)}`, field), identityOf(rawJoinRef, rawRef, topic));
  if (joinRef === undefined) return invalid('join_ref', 'a string or null', rawJoinRef);
  if (ref === undefined) return invalid('ref', 'a string or null', rawRef);
  if (typeof topic !== 'string') return invalid('topic', 'a string', topic);
  if (typeof event !== 'string' || event.length === 0) return invalid('event', 'a non-empty string', event);
  if (!isJsonObject(payload)) return invalid('payload', 'a JSON object', payload);
  return { ok: true, message: { joinRef, ref, topic, event, payload } };
}
