import { Buffer, isUtf8 } from 'node:buffer';
import { RealtimeProtocolError } from '../errors.js';

/** What a WebSocket library hands us for one frame. */
export type FrameData = string | Uint8Array | ArrayBuffer;

/** Limits a codec enforces on every inbound frame. */
export interface FrameLimits {
  maxFrameBytes: number;
  maxDepth: number;
}

export type FrameRead<T> = { ok: true; value: T } | { ok: false; error: RealtimeProtocolError };

function tooLarge(bytes: number | string, limits: FrameLimits): FrameRead<never> {
  return {
    ok: false,
    error: new RealtimeProtocolError('FRAME_TOO_LARGE', `frame of ${bytes} bytes exceeds the limit of ${limits.maxFrameBytes} bytes`),
  };
}

/** The bytes of a binary frame, size-checked before anything reads them. */
export function frameBytes(data: FrameData, limits: FrameLimits): FrameRead<Buffer> {
  if (typeof data === 'string') {
    return { ok: false, error: new RealtimeProtocolError('MALFORMED_FRAME', 'a binary frame must hold bytes, not a string') };
  }
  const bytes = toBuffer(data);
  if (bytes === null) return { ok: false, error: new RealtimeProtocolError('MALFORMED_FRAME', 'frame data must be a string or bytes') };
  if (bytes.length > limits.maxFrameBytes) return tooLarge(bytes.length, limits);
  return { ok: true, value: bytes };
}

/** The text of a text frame, size-checked before anything parses it. */
export function frameText(data: FrameData, limits: FrameLimits): FrameRead<string> {
  if (typeof data === 'string') {
    // A UTF-16 unit is 1 to 3 UTF-8 bytes: only count bytes when the bounds disagree.
    if (data.length > limits.maxFrameBytes) return tooLarge(`at least ${data.length}`, limits);
    if (data.length * 3 > limits.maxFrameBytes) {
      const size = Buffer.byteLength(data, 'utf8');
      if (size > limits.maxFrameBytes) return tooLarge(size, limits);
    }
    return { ok: true, value: data };
  }
  const bytes = toBuffer(data);
  if (bytes === null) return { ok: false, error: new RealtimeProtocolError('MALFORMED_FRAME', 'frame data must be a string or bytes') };
  if (bytes.length > limits.maxFrameBytes) return tooLarge(bytes.length, limits);
  // ws validates text frames already; the codec does not rely on its caller for that.
  if (!isUtf8(bytes)) return { ok: false, error: new RealtimeProtocolError('MALFORMED_FRAME', 'text frame is not valid UTF-8') };
  return { ok: true, value: bytes.toString('utf8') };
}

/** A Buffer view (no copy) of frame bytes, or null for anything else. */
function toBuffer(data: unknown): Buffer | null {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  return null;
}
