/**
 * The pre-framed WebSocket frames the connection layer writes beside ws (transport/transport.ts wireFrame):
 * ws's own Receiver must read them back exactly, for text and binary, at each length encoding.
 */
import * as ws from 'ws';
import { wireFrame } from '../../../lib/server/realtime/transport/transport.js';

/** ws's frame parser (exported by ws, not declared by @types/ws). */
interface FrameReceiver {
  on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
  write(chunk: Buffer): void;
}
const Receiver = (ws as unknown as { Receiver: new (options: { isServer: boolean; maxPayload: number }) => FrameReceiver }).Receiver;

function receive(frames: Buffer[]): Promise<Array<{ data: Buffer; isBinary: boolean }>> {
  return new Promise((resolve, reject) => {
    const got: Array<{ data: Buffer; isBinary: boolean }> = [];
    const receiver = new Receiver({ isServer: false, maxPayload: 0 });
    receiver.on('message', (data: Buffer, isBinary: boolean) => {
      got.push({ data: Buffer.from(data), isBinary });
      if (got.length === frames.length) resolve(got);
    });
    receiver.on('error', reject);
    receiver.write(Buffer.concat(frames));
  });
}

describe('wireFrame', () => {
  it.each([0, 1, 125, 126, 65535, 65536, 70000])('frames a %i-byte text and binary message as ws reads it', async (length) => {
    const text = 'é'.repeat(Math.floor(length / 2)) + 'x'.repeat(length % 2); // multi-byte UTF-8, exactly `length` bytes
    const binary = Buffer.alloc(length, 7);
    const [a, b] = await receive([Buffer.from(wireFrame(text)), Buffer.from(wireFrame(binary))]);
    expect(a!.isBinary).toBe(false);
    expect(a!.data.toString('utf8')).toBe(text);
    expect(a!.data.length).toBe(length);
    expect(b!.isBinary).toBe(true);
    expect(b!.data.equals(binary)).toBe(true);
  });

  it('reuses the bytes of the frame it just built and never mixes up different messages', () => {
    const first = wireFrame('{"a":1}');
    expect(wireFrame('{"a":1}')).toBe(first);
    const second = wireFrame('{"a":2}');
    expect(second).not.toBe(first);
    expect(second.subarray(2).toString()).toBe('{"a":2}');
  });
});
