import { kindOf, RealtimeProtocolError } from '../errors.js';
import { EVENT, isBinaryPayload, type PhoenixMessage } from './messages.js';

/**
 * Checks the fields of a message the server is about to send. A failure is a bug in the server, not
 * bad client input, so it throws instead of returning a result.
 */
export function checkOutbound(message: PhoenixMessage): void {
  if (message === null || typeof message !== 'object') fail('message', `must be an object, got ${kindOf(message)}`);
  if (typeof message.topic !== 'string') fail('topic', `must be a string, got ${kindOf(message.topic)}`);
  if (typeof message.event !== 'string' || message.event.length === 0) fail('event', `must be a non-empty string, got ${kindOf(message.event)}`);
  if (message.ref !== null && typeof message.ref !== 'string') fail('ref', `must be a string or null, got ${kindOf(message.ref)}`);
  if (message.joinRef !== null && typeof message.joinRef !== 'string') fail('joinRef', `must be a string or null, got ${kindOf(message.joinRef)}`);
  // Phoenix refuses non-map payloads too, and realtime-js reads fields of every payload it gets.
  const payload = message.payload;
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload) || isBinaryPayload(payload)) {
    fail('payload', `must be a JSON object, got ${kindOf(payload)}`);
  }
}

function fail(field: string, problem: string): never {
  throw new RealtimeProtocolError('INVALID_OUTBOUND_MESSAGE', `outbound ${field} ${problem}`, field);
}

/** True for a `broadcast` whose user payload is bytes: only a v2 kind-4 frame can carry it. */
export function hasBinaryUserPayload(message: Pick<PhoenixMessage, 'event' | 'payload'>): boolean {
  if (message.event !== EVENT.broadcast) return false;
  const envelope = message.payload;
  return envelope !== null && typeof envelope === 'object' && isBinaryPayload((envelope as { payload?: unknown }).payload);
}
