/**
 * Stable codes for every way a realtime client's input is rejected. A simple union on purpose:
 * other realtime modules add their codes here, grouped under a comment naming the module.
 */
export type RealtimeProtocolErrorCode =
  // --- frame codec (codec/*) ---
  /** A frame larger than the codec's `maxFrameBytes`; rejected before any parsing. */
  | 'FRAME_TOO_LARGE'
  /** A text frame (or a JSON part of a binary frame) that is not valid JSON. */
  | 'MALFORMED_JSON'
  /** Valid JSON or bytes, but not the shape of a frame: not an object (v1), not a 5-element array (v2), truncated or lying binary header, invalid UTF-8. */
  | 'MALFORMED_FRAME'
  /** JSON nested deeper than the codec's `maxDepth` (it could not be re-serialized safely). */
  | 'NESTING_TOO_DEEP'
  /** A binary frame whose kind is not 3 (user broadcast push), the only kind a client may send. */
  | 'UNSUPPORTED_BINARY_KIND'
  /** A binary frame on a vsn 1.0.0 connection, which carries text frames only. */
  | 'BINARY_NOT_SUPPORTED'
  /** A frame field with the wrong type or value (`field` names it). */
  | 'INVALID_FIELD'
  /** A `vsn` connection parameter other than 1.0.0 or 2.0.0. */
  | 'UNSUPPORTED_VSN'
  /** Programmer error: `encode` was given a message that cannot be put on the wire. */
  | 'INVALID_OUTBOUND_MESSAGE'
  /** Programmer error: an option given to `createCodec` is out of range. */
  | 'INVALID_OPTION';

/** The error a realtime protocol module returns (or, for programmer errors, throws); switch on `code`. */
export class RealtimeProtocolError extends Error {
  override readonly name = 'RealtimeProtocolError';
  readonly code: RealtimeProtocolErrorCode;
  /** The frame field at fault (`topic`, `ref`, `payload`, `metadata` ...), when there is one. */
  readonly field?: string;

  constructor(code: RealtimeProtocolErrorCode, message: string, field?: string) {
    super(message);
    this.code = code;
    if (field !== undefined) this.field = field;
  }
}

/** True when `error` is a RealtimeProtocolError, optionally with the given code. */
export function isRealtimeProtocolError(error: unknown, code?: RealtimeProtocolErrorCode): error is RealtimeProtocolError {
  return error instanceof RealtimeProtocolError && (code === undefined || error.code === code);
}

/**
 * The kind of a value for error messages, never its content: errors go back to the client and into
 * logs, and echoing what a client sent would let it write arbitrary text there.
 */
export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'missing';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Uint8Array || value instanceof ArrayBuffer) return 'bytes';
  switch (typeof value) {
    case 'string':
      return value.length === 0 ? 'an empty string' : 'a string';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'a boolean';
    case 'object':
      return 'an object';
    default:
      return `a ${typeof value}`;
  }
}
