/**
 * One demo client's network, as the demo page controls it: every PostgREST request is counted, and
 * two switches stand for what a real tab meets: "offline" (no request and no socket gets through:
 * the fetch fails as a browser's does, and the socket can't connect) and "realtime down" (PostgREST
 * works, the realtime server can't be reached). The counter lives outside the store on purpose: time
 * travel rewinds the store, never this count, so the page can show that scrubbing sends nothing.
 */
import type { WebSocketLike } from '../lib/sync';

export interface NetworkSnapshot {
  /** PostgREST requests sent so far (refused ones while offline included). */
  requests: number;
  offline: boolean;
  realtimeDown: boolean;
}

export interface DemoNetwork {
  /** The fetch the client's api uses. */
  fetch: typeof fetch;
  /** The WebSocket the client's sync middleware uses. */
  WebSocket: new (url: string) => WebSocketLike;
  getSnapshot(): NetworkSnapshot;
  subscribe(listener: () => void): () => void;
  setOffline(offline: boolean): void;
  setRealtimeDown(down: boolean): void;
}

type SocketClass = new (url: string) => WebSocketLike;

/** A network over `baseFetch` (default the global fetch) and `BaseSocket` (default the global WebSocket). */
export function createNetwork(baseFetch?: typeof fetch, BaseSocket?: SocketClass): DemoNetwork {
  let snapshot: NetworkSnapshot = { requests: 0, offline: false, realtimeDown: false };
  const listeners = new Set<() => void>();
  const open = new Set<WebSocketLike>();
  const update = (change: Partial<NetworkSnapshot>) => {
    snapshot = { ...snapshot, ...change };
    for (const listener of listeners) listener();
  };
  const cutSockets = () => {
    for (const socket of open) socket.close(4000, 'the demo cut this connection');
    open.clear();
  };

  const countingFetch: typeof fetch = (input, init) => {
    update({ requests: snapshot.requests + 1 });
    // What a browser's fetch does with no network: a TypeError, which the outbox queues on.
    if (snapshot.offline) return Promise.reject(new TypeError('Failed to fetch (this demo client is offline)'));
    return (baseFetch ?? globalThis.fetch)(input, init);
  };

  class DemoSocket {
    constructor(url: string) {
      // A constructor that throws is a connection that fails at once (the sync middleware retries with backoff).
      if (snapshot.offline) throw new Error('this demo client is offline');
      if (snapshot.realtimeDown) throw new Error('the realtime server is down (the demo switch)');
      const Socket = BaseSocket ?? (globalThis.WebSocket as unknown as SocketClass);
      return trackedSocket(new Socket(url), open) as unknown as DemoSocket;
    }
  }

  return {
    fetch: countingFetch,
    WebSocket: DemoSocket as unknown as SocketClass,
    getSnapshot: () => snapshot,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    setOffline(offline) {
      if (offline === snapshot.offline) return;
      update({ offline });
      if (offline) cutSockets();
    },
    setRealtimeDown(realtimeDown) {
      if (realtimeDown === snapshot.realtimeDown) return;
      update({ realtimeDown });
      if (realtimeDown) cutSockets();
    },
  };
}

/** `socket`, kept in `open` until it closes. */
function trackedSocket(socket: WebSocketLike, open: Set<WebSocketLike>): WebSocketLike {
  open.add(socket);
  let onclose: WebSocketLike['onclose'] = null;
  socket.onclose = (event) => {
    open.delete(socket);
    onclose?.(event);
  };
  return {
    get readyState() {
      return socket.readyState;
    },
    get binaryType() {
      return socket.binaryType;
    },
    set binaryType(value) {
      socket.binaryType = value;
    },
    send: (data) => socket.send(data),
    close: (code, reason) => socket.close(code, reason),
    get onopen() {
      return socket.onopen;
    },
    set onopen(handler) {
      socket.onopen = handler;
    },
    get onclose() {
      return onclose;
    },
    set onclose(handler) {
      onclose = handler;
    },
    get onerror() {
      return socket.onerror;
    },
    set onerror(handler) {
      socket.onerror = handler;
    },
    get onmessage() {
      return socket.onmessage;
    },
    set onmessage(handler) {
      socket.onmessage = handler;
    },
  };
}
