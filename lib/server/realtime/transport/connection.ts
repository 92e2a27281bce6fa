/**
 * One WebSocket connection: frames in through the codec, heartbeats answered on topic `phoenix`,
 * everything else to the socket's channels; messages out through the codec, with a send buffer
 * bounded per socket and, through the server's send budget, over all sockets. Nothing a client
 * sends may throw out of here: a bad frame gets an error reply, or the socket is closed, and no
 * other socket is touched.
 */
import type { WebSocket } from 'ws';
import { decodeErrorReply, type RealtimeCodec } from '../codec/index.js';
import { createSocketChannels, type ChannelContext } from '../channels/socketChannels.js';
import { EVENT, PHOENIX_TOPIC, replyTo, type InboundMessage, type PhoenixMessage } from '../codec/messages.js';
import type { ChannelPeer } from '../channels/rooms.js';
import type { SendBudget } from './sendBudget.js';
import { rawSocketOf, wireFrame } from './transport.js';

/** Close codes (RFC 6455 §7.4.1). */
export const CLOSE_CODE = { normal: 1000, invalidPayload: 1007, policyViolation: 1008, internalError: 1011 } as const;

/** After asking a socket to close, give its peer this long to answer before dropping it. */
const CLOSE_GRACE_MS = 1000;

/** ws spreads these into its own options: one shared object per kind instead of one per frame. */
const TEXT = { binary: false } as const;
const BINARY = { binary: true } as const;

/**
 * Write batching: a connection's first frame in a tick corks its net socket, and one shared
 * `process.nextTick` uncorks every socket corked in that tick, so a fan-out batch leaves each socket
 * in one `writev` instead of one write syscall per frame. Frames are written pre-framed
 * (`wireFrame`: one Buffer per fan-out message, shared by all sockets) straight to the net socket.
 * Corking only delays the flush: every frame of a socket (fan-out, replies, ws's own pongs and
 * close frames) still goes through the same stream buffer, in order.
 */
const corked: Array<() => void> = [];
let flushScheduled = false;

function flushCorked(): void {
  flushScheduled = false;
  // A socket corked while this runs (a close that makes another socket send) is flushed by this loop too.
  for (let i = 0; i < corked.length; i++) {
    try {
      corked[i]!();
    } catch {
      // One socket's failure must not keep the others corked.
    }
  }
  corked.length = 0;
}

export interface ConnectionOptions {
  id: string;
  codec: RealtimeCodec;
  /** The verified `apikey` the socket connected with. */
  socketToken: string;
  context: ChannelContext;
  /** Past this many queued outgoing bytes the socket is closed (1008) instead of growing memory. */
  maxBufferedBytes: number;
  /** The server-wide bound on queued outgoing bytes, shared by every socket. */
  sendBudget: SendBudget;
}

/** Serves one socket until it closes. */
export function serveConnection(socket: WebSocket, options: ConnectionOptions): void {
  const { codec, maxBufferedBytes } = options;
  let closing = false;
  const raw = rawSocketOf(socket);
  let isCorked = false;
  /** Bytes written since the socket was last uncorked. */
  let corkedBytes = 0;
  let graceTimer: NodeJS.Timeout | undefined;
  const account = options.sendBudget.open({
    measure: () => socket.bufferedAmount,
    closeForBudget: (reason) => close(CLOSE_CODE.policyViolation, reason),
    terminate: () => socket.terminate(),
  });

  /** Ends this tick's batch: the batch goes out, then what the kernel didn't take is held against the bounds. */
  function flush(): void {
    isCorked = false;
    corkedBytes = 0;
    raw!.uncork();
    checkBuffered();
  }

  /** One sample per batch serves both bounds: this socket's, then the server-wide budget. */
  function checkBuffered(): void {
    if (closing) return;
    const buffered = socket.bufferedAmount;
    if (buffered > maxBufferedBytes) close(CLOSE_CODE.policyViolation, `slow consumer: more than ${maxBufferedBytes} bytes waiting to be sent`);
    else account.update(buffered);
  }

  function close(code: number, reason: string): void {
    if (closing) return;
    closing = true;
    // Nothing more is queued from here, and what is queued goes with the socket within the grace period.
    account.release();
    // A close reason is limited to 123 bytes; our reasons are ASCII.
    socket.close(code, reason.slice(0, 123));
    // A slow or dead peer may never answer the close handshake: don't keep its buffers waiting.
    graceTimer = setTimeout(() => socket.terminate(), CLOSE_GRACE_MS).unref();
  }

  // A drain empties the buffer, but only after a write found it past the net socket's highWaterMark;
  // smaller rests are found by the next batch's sample (below) or by the budget's re-measure.
  const onDrain = () => {
    if (!closing) account.update(socket.bufferedAmount);
  };
  raw?.on('drain', onDrain);

  function sendFrame(frame: string | Buffer): void {
    if (closing || socket.readyState !== socket.OPEN) return;
    if (raw === null) {
      socket.send(frame, typeof frame === 'string' ? TEXT : BINARY);
      checkBuffered();
      return;
    }
    if (!isCorked) {
      // Slow since the last sample? Only if nothing drained in between: an emptied buffer ends the
      // stretch, so a socket that keeps up between bursts never counts as slow the longest.
      if (account.slow) {
        account.update(socket.bufferedAmount);
        // The budget may have closed this very socket: nothing may follow its close frame.
        if (closing) return;
      }
      isCorked = true;
      raw.cork();
      corked.push(flush);
      if (!flushScheduled) {
        flushScheduled = true;
        process.nextTick(flushCorked);
      }
    }
    const wire = wireFrame(frame);
    raw.write(wire);
    corkedBytes += wire.length;
    // A tick's batch is bounded too: past the bound, write out now and hold the rest against it.
    if (corkedBytes > maxBufferedBytes) {
      corkedBytes = 0;
      raw.uncork();
      checkBuffered();
      if (!closing) raw.cork(); // still listed in `corked`: flushed with the others
    }
  }

  const peer: ChannelPeer = {
    id: options.id,
    vsn: codec.vsn,
    send(message: PhoenixMessage) {
      const frame = codec.encode(message);
      if (frame !== null) sendFrame(frame);
    },
    sendFrame,
  };
  const channels = createSocketChannels(peer, options.socketToken, options.context, (reason) => close(CLOSE_CODE.policyViolation, reason));

  function dispatch(message: InboundMessage, bytes: number): void {
    if (message.topic === PHOENIX_TOPIC) {
      if (message.event === EVENT.heartbeat) peer.send(replyTo(message, 'ok', {}));
      else if (message.ref !== null) peer.send(replyTo(message, 'error', { reason: 'unmatched topic' }));
      return;
    }
    channels.handle(message, bytes);
  }

  function receive(data: Buffer, isBinary: boolean): void {
    const decoded = codec.decode(data, isBinary);
    if (!decoded.ok) {
      const reply = decodeErrorReply(decoded);
      // Without a ref nobody waits for an answer, and the stream can't be trusted: Phoenix closes too.
      if (reply === null) close(CLOSE_CODE.invalidPayload, `${decoded.error.code}: ${decoded.error.message}`);
      else peer.send(reply);
      return;
    }
    try {
      dispatch(decoded.message, data.length);
    } catch {
      // A bug of ours, triggered by this client only: answer it like Supabase's crashed channel does.
      if (decoded.message.ref !== null) peer.send(replyTo(decoded.message, 'error', { reason: 'Unknown Error on Channel' }));
    }
  }

  socket.on('message', (data, isBinary) => {
    if (closing) return;
    try {
      receive(data as Buffer, isBinary);
    } catch {
      // Even the error path failed: drop this socket rather than let the exception reach ws (and other sockets).
      close(CLOSE_CODE.internalError, 'internal error');
    }
  });

  socket.on('close', () => {
    closing = true;
    account.closed();
    clearTimeout(graceTimer);
    raw?.off('drain', onDrain);
    channels.closeAll();
  });
  // 'error' precedes 'close' (e.g. ws closes with 1009 on an oversized frame); without a listener it would throw.
  socket.on('error', () => close(CLOSE_CODE.internalError, 'socket error'));
}
