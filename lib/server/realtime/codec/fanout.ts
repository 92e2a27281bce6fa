/**
 * Encode once, send to thousands: a fan-out message (join_ref and ref null) is the same bytes for
 * every socket of one vsn, so the server builds its frame once per (topic, event, payload, vsn)
 * instead of once per socket. Supabase caches the same way (`message_dispatcher.ex`).
 */
import { fanoutMessage, type PhoenixMessage, type Vsn } from './messages.js';
import { payloadJson } from './json.js';
import { checkOutbound, hasBinaryUserPayload } from './outbound.js';
import { encodeV1Text } from './v1.js';
import { encodeBinaryBroadcast, encodeV2Text } from './v2.js';

/** The frames of one fan-out message, built lazily per vsn and then reused. */
export interface FanoutFrames {
  readonly message: PhoenixMessage;
  /** The frame for sockets of `vsn`; null when that vsn cannot carry it (v1 and a binary user payload). */
  frameFor(vsn: Vsn): string | Buffer | null;
}

class LazyFanoutFrames implements FanoutFrames {
  readonly message: PhoenixMessage;
  private readonly binary: boolean;
  private payloadText: string | undefined;
  private v1: string | null | undefined;
  private v2: string | Buffer | undefined;

  constructor(message: PhoenixMessage) {
    checkOutbound(message);
    this.message = message;
    this.binary = hasBinaryUserPayload(message);
  }

  frameFor(vsn: Vsn): string | Buffer | null {
    if (vsn === '2.0.0') {
      if (this.v2 === undefined) this.v2 = this.binary ? encodeBinaryBroadcast(this.message) : encodeV2Text(this.message, this.payload());
      return this.v2;
    }
    if (this.v1 === undefined) this.v1 = this.binary ? null : encodeV1Text(this.message, this.payload());
    return this.v1;
  }

  /** Serialized once for both vsns: the payload is the expensive part of every frame. */
  private payload(): string {
    if (this.payloadText === undefined) this.payloadText = payloadJson(this.message.payload);
    return this.payloadText;
  }
}

/**
 * Prepares the frames of a fan-out message. `payload` may be `rawJson(text)` to splice in JSON the
 * caller already has. Throws only for a topic or event that cannot be on the wire; an unserializable
 * payload throws from the first `frameFor`.
 */
export function encodeFanout(topic: string, event: string, payload: unknown): FanoutFrames {
  return new LazyFanoutFrames(fanoutMessage(topic, event, payload));
}
