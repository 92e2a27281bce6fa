/**
 * The WebSocket class reconnecting-websocket (rws) drives: a wrapper around the class we are given
 * (the browser's, or `ws`), because rws 4.4 on its own
 * - turns every 'error' into a close of its own with code 1000, so the real close code (1006 for a
 *   refused or cut connection) never reaches us: only 'close' is passed on (a close follows every
 *   error, in browsers and in `ws`);
 * - stops reconnecting for good when the constructor throws (the throw rejects its connect chain
 *   and leaves it locked): a throw here becomes a socket that closes at once;
 * - removes its listeners before closing a socket still connecting (its connection timeout), and
 *   `ws` then emits an 'error' nobody handles, which crashes Node: the wrapped socket always has an
 *   error listener;
 * - keeps listening to a socket it closed (`close()` leaves its listeners): an 'open' that still
 *   comes would start its uptime timer after the socket was stopped, so after `close()` only
 *   'close' is passed on;
 * - can only close a dead connection with a closing handshake that never completes: `drop` ends it
 *   at once (`terminate` where there is one) and reports the close immediately.
 * Browser-safe: nothing here needs Node.
 */
import { errorMessage } from './socketOptions.js';
import type { WebSocketConstructor, WebSocketLike } from './types.js';

/** A connection as the socket sees it. */
export interface Transport {
  readonly readyState: number;
  send(data: string | ArrayBuffer): void;
  /** Ends a dead connection now and reports it closed with `code` and `reason`. */
  drop(code: number, reason: string): void;
}

export interface TransportHooks {
  /** A transport was created for a connection attempt. */
  created(transport: Transport): void;
  /** The WebSocket constructor threw; the transport reports a close (1006) right after. */
  constructorFailed(error: unknown): void;
}

type Listener = (event: unknown) => void;
type EventName = 'open' | 'close' | 'message' | 'error';

const CLOSED = 3;

/** A WebSocket class for rws's `WebSocket` option, built around `WebSocketClass`. */
export function transportClass(WebSocketClass: WebSocketConstructor, hooks: TransportHooks): new (url: string) => Transport {
  class WrappedWebSocket implements Transport {
    // rws checks these to recognise a WebSocket class.
    static readonly CONNECTING = 0;
    static readonly OPEN = 1;
    static readonly CLOSING = 2;
    static readonly CLOSED = CLOSED;

    private readonly listeners: Record<EventName, Set<Listener>> = { open: new Set(), close: new Set(), message: new Set(), error: new Set() };
    private readonly socket: WebSocketLike | null = null;
    private ended = false;
    private closing = false;

    constructor(url: string) {
      try {
        this.socket = new WebSocketClass(url);
      } catch (error) {
        this.ended = true;
        hooks.constructorFailed(error);
        // rws adds its listeners right after construction, in the same task.
        queueMicrotask(() => this.dispatch('close', { type: 'close', code: 1006, reason: errorMessage(error), wasClean: false, target: this }));
        hooks.created(this);
        return;
      }
      const socket = this.socket;
      socket.binaryType = 'arraybuffer';
      socket.onopen = (event) => !this.closing && this.dispatch('open', event);
      socket.onmessage = (event) => !this.closing && this.dispatch('message', event);
      socket.onclose = (event) => {
        this.ended = true;
        this.dispatch('close', event);
      };
      socket.onerror = () => undefined;
      hooks.created(this);
    }

    get readyState(): number {
      return this.ended || !this.socket ? CLOSED : this.socket.readyState;
    }

    get binaryType(): string {
      return this.socket?.binaryType ?? 'arraybuffer';
    }

    set binaryType(value: string) {
      if (this.socket) this.socket.binaryType = value;
    }

    send(data: string | ArrayBuffer): void {
      if (!this.socket) throw new Error('WebSocket could not be created');
      this.socket.send(data);
    }

    /** rws closes with this on its connection timeout and on `close()`; the close event follows. */
    close(code?: number, reason?: string): void {
      this.closing = true;
      try {
        this.socket?.close(code, reason);
      } catch {
        // Already closed, or a code the browser refuses: the connection is gone either way.
      }
    }

    drop(code: number, reason: string): void {
      if (this.ended) return;
      this.ended = true;
      const socket = this.socket;
      if (socket) {
        socket.onopen = null;
        socket.onmessage = null;
        socket.onclose = null;
        try {
          if (typeof socket.terminate === 'function') socket.terminate();
          else socket.close(code, reason);
        } catch {
          // Already closed.
        }
      }
      this.dispatch('close', { type: 'close', code, reason, wasClean: false, target: this });
    }

    addEventListener(type: EventName, listener: Listener): void {
      this.listeners[type]?.add(listener);
    }

    removeEventListener(type: EventName, listener: Listener): void {
      this.listeners[type]?.delete(listener);
    }

    private dispatch(type: EventName, event: unknown): void {
      for (const listener of [...this.listeners[type]]) listener(event);
    }
  }
  return WrappedWebSocket;
}
