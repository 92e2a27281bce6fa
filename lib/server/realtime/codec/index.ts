/**
 * The frame codec: bytes on a WebSocket ⇄ `PhoenixMessage`, for vsn 1.0.0 and 2.0.0
 * (docs/realtime-protocol.md §1.2–1.4). Pure: no I/O, no state beyond its options.
 */
import { RealtimeProtocolError } from '../errors.js';
import { DEFAULT_VSN, replyTo, type PhoenixMessage, type ReplyPayload, type Vsn } from './messages.js';
import type { FrameData, FrameLimits } from './frame.js';
import type { DecodeFailure, DecodeResult } from './result.js';
import { decodeV1, encodeV1 } from './v1.js';
import { decodeV2, encodeV2 } from './v2.js';

export type { FrameData } from './frame.js';
export type { DecodeFailure, DecodeResult, FrameIdentity } from './result.js';
export { encodeFanout, type FanoutFrames } from './fanout.js';
export { rawJson, type RawJson } from './json.js';
export { encodeUserBroadcastFrame, BINARY_KIND, PAYLOAD_ENCODING, MAX_HEADER_STRING_BYTES } from './binary.js';

/** Supabase Realtime's `max_frame_size`. */
export const DEFAULT_MAX_FRAME_BYTES = 5_000_000;
/** Far above any real payload and far below the few thousand levels at which `JSON.stringify` overflows. */
export const DEFAULT_MAX_DEPTH = 256;
/** Beyond this, accepted payloads could overflow the stack when re-serialized for other clients. */
export const MAX_MAX_DEPTH = 1000;

export interface CodecOptions {
  /** Frames larger than this (in bytes) are rejected before parsing. Default 5 000 000. */
  maxFrameBytes?: number;
  /** Deepest allowed nesting of arrays and objects in client JSON, the frame's own wrapper included. Default 256, at most 1000. */
  maxDepth?: number;
}

/** One connection's codec. */
export interface RealtimeCodec {
  readonly vsn: Vsn;
  /** Decodes one inbound frame; never throws. `isBinary` is the WebSocket opcode. */
  decode(data: FrameData, isBinary: boolean): DecodeResult;
  /**
   * Encodes one outbound message: a string for a text frame, a Buffer for a binary frame, or null
   * when this vsn cannot carry the message (v1 and a broadcast with a binary user payload: drop it).
   * Throws RealtimeProtocolError `INVALID_OUTBOUND_MESSAGE` only for a message no vsn could send
   * (wrong field types, unserializable payload): a server bug, not client input.
   */
  encode(message: PhoenixMessage): string | Buffer | null;
}

/** Creates the codec for a negotiated vsn. Throws `INVALID_OPTION` for out-of-range limits. */
export function createCodec(vsn: Vsn, options: CodecOptions = {}): RealtimeCodec {
  const limits: FrameLimits = {
    maxFrameBytes: positiveInteger(options.maxFrameBytes, DEFAULT_MAX_FRAME_BYTES, 'maxFrameBytes'),
    maxDepth: positiveInteger(options.maxDepth, DEFAULT_MAX_DEPTH, 'maxDepth'),
  };
  if (limits.maxDepth > MAX_MAX_DEPTH) throw new RealtimeProtocolError('INVALID_OPTION', `createCodec: maxDepth must be at most ${MAX_MAX_DEPTH}`);
  switch (vsn) {
    case '1.0.0':
      return { vsn, decode: (data, isBinary) => decodeV1(data, isBinary, limits), encode: encodeV1 };
    case '2.0.0':
      return { vsn, decode: (data, isBinary) => decodeV2(data, isBinary, limits), encode: encodeV2 };
    default:
      throw new RealtimeProtocolError('INVALID_OPTION', `createCodec: vsn must be 1.0.0 or 2.0.0`);
  }
}

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new RealtimeProtocolError('INVALID_OPTION', `createCodec: ${name} must be a positive integer`);
  return value;
}

export type VsnResult = { ok: true; vsn: Vsn } | { ok: false; error: RealtimeProtocolError };

/**
 * The vsn for a connection's `vsn` query parameter: 1.0.0 when absent (Phoenix's default), the two
 * versions realtime-js can send, an `UNSUPPORTED_VSN` error for anything else (including '').
 */
export function negotiateVsn(param: string | null | undefined): VsnResult {
  if (param === null || param === undefined) return { ok: true, vsn: DEFAULT_VSN };
  if (param === '1.0.0' || param === '2.0.0') return { ok: true, vsn: param };
  return { ok: false, error: new RealtimeProtocolError('UNSUPPORTED_VSN', 'vsn must be 1.0.0 or 2.0.0') };
}

/**
 * The error reply to a rejected frame, addressed like a reply to the push it was meant to be:
 * `phx_reply {status: "error", response: {reason: "<CODE>: <message>"}}` (Supabase's
 * `"<Code>: <message>"` reason style). Null when the frame's ref or topic could not be read: no
 * client push is waiting for an answer then, so there is nothing to reply to.
 */
export function decodeErrorReply(failure: DecodeFailure): PhoenixMessage<ReplyPayload<{ reason: string }>> | null {
  if (failure.ref === undefined || failure.ref === null || failure.topic === undefined) return null;
  const request = { joinRef: failure.joinRef ?? null, ref: failure.ref, topic: failure.topic };
  return replyTo(request, 'error', { reason: `${failure.error.code}: ${failure.error.message}` });
}
