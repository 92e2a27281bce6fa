import { RealtimeProtocolError } from '../errors.js';

/** Outcome of parsing client JSON: never throws. */
export type JsonParseResult = { ok: true; value: unknown } | { ok: false; error: RealtimeProtocolError };

/**
 * Parses client JSON and enforces `maxDepth`. V8 parses any depth, but `JSON.stringify` overflows
 * the stack at a few thousand levels, so a deep payload relayed to other clients would throw in the
 * fan-out path: one client hurting everyone. `what` names the part of the frame in messages.
 */
export function parseClientJson(text: string, maxDepth: number, what: string): JsonParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // Not V8's message: it quotes the input, and error texts never echo client content.
    return { ok: false, error: new RealtimeProtocolError('MALFORMED_JSON', `${what} is not valid JSON`) };
  }
  // Depth d needs d opening and d closing brackets, so short texts cannot be too deep.
  if (text.length >= 2 * (maxDepth + 1) && exceedsDepth(value, maxDepth)) {
    return { ok: false, error: new RealtimeProtocolError('NESTING_TOO_DEEP', `${what} nests objects and arrays deeper than ${maxDepth} levels`) };
  }
  return { ok: true, value };
}

/**
 * True when arrays/objects nest deeper than `maxDepth` (the outermost container is level 1).
 * Walking the parsed value is ~5x faster than scanning the text, and the recursion stops at
 * `maxDepth + 1`, so it cannot overflow the stack itself.
 */
function exceedsDepth(value: unknown, maxDepth: number, depth = 1): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (depth > maxDepth) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (exceedsDepth(value[i], maxDepth, depth + 1)) return true;
    return false;
  }
  for (const key in value) if (exceedsDepth((value as Record<string, unknown>)[key], maxDepth, depth + 1)) return true;
  return false;
}

const RAW_JSON = Symbol('RawJson');

/**
 * JSON text serialized earlier, passed where a payload is expected so the fan-out path can splice it
 * into many frames without serializing it again (e.g. one change's `data` shared by every channel).
 * Trusted: the caller guarantees it is valid JSON.
 */
export interface RawJson {
  readonly [RAW_JSON]: string;
}

/** Wraps already-serialized JSON text for use as a payload. */
export function rawJson(text: string): RawJson {
  if (typeof text !== 'string' || text.length === 0) {
    throw new RealtimeProtocolError('INVALID_OUTBOUND_MESSAGE', 'rawJson needs non-empty JSON text');
  }
  return { [RAW_JSON]: text };
}

function isRawJson(value: unknown): value is RawJson {
  return value !== null && typeof value === 'object' && RAW_JSON in value;
}

/** The JSON text of an outbound payload; throws for values JSON cannot represent (programmer error). */
export function payloadJson(payload: unknown): string {
  if (isRawJson(payload)) return payload[RAW_JSON];
  let text: string | undefined;
  try {
    text = JSON.stringify(payload);
  } catch (error) {
    throw new RealtimeProtocolError('INVALID_OUTBOUND_MESSAGE', `payload cannot be serialized: ${(error as Error).message}`, 'payload');
  }
  if (text === undefined) {
    throw new RealtimeProtocolError('INVALID_OUTBOUND_MESSAGE', `payload is ${typeof payload}, which JSON cannot represent`, 'payload');
  }
  return text;
}
