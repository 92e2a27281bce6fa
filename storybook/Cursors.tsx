import { useCallback, useEffect, useRef, useState, type MouseEvent } from 'react';
import { useSelector } from 'react-redux';
import type { DemoConfig } from './demoConfig';
import { colorOf, TwoTabs, useTab } from './DemoTab';

export interface CursorsDemoProps {
  /** The broadcast channel both boards share. */
  channel?: string;
  /** A cursor that has not moved for this long is hidden. */
  hideAfterMs?: number;
  /** Every PostgREST request of both tabs goes through it (the default is the global fetch). */
  fetchFn?: typeof fetch;
}

/** At most one cursor message per this many ms (about 30 a second); the last position is always sent. */
export const CURSOR_INTERVAL_MS = 33;
/** How long a ping stays on the board. */
const PING_MS = 1200;

/** A position on the board, each coordinate from 0 to 1 (so boards of different sizes agree). */
interface Point {
  x: number;
  y: number;
}
/** What the `cursor` event carries: where the sender's pointer is, or that it left the board. */
type CursorMessage = { name: string } & (Point | { left: true });
interface Ping extends Point {
  id: number;
  name: string;
}

/**
 * Two tabs on one board: each broadcasts its pointer with `useBroadcast(channel, 'cursor')`, and the
 * other draws it. Nothing goes through the database or the store's cache; broadcast is
 * client-to-client through the realtime server.
 */
export function CursorsDemo({ config, channel = 'cursors-demo', hideAfterMs = 3000, fetchFn }: CursorsDemoProps & { config: DemoConfig }) {
  return (
    <>
      <p className="demo-lead">
        Move the mouse over a board: the tab sends its position with <code>useBroadcast(channel, 'cursor', handler)</code>, at most about 30
        times a second, and the other tab draws the cursor in its sender's colour. It disappears when the pointer leaves the board (a last
        message says so) or after {hideAfterMs / 1000} s without moves. Click to drop a ping (a second event on the same channel).
      </p>
      <TwoTabs config={config} fetchFn={fetchFn}>
        <CursorBoard channel={channel} hideAfterMs={hideAfterMs} />
      </TwoTabs>
    </>
  );
}

function CursorBoard({ channel, hideAfterMs }: { channel: string; hideAfterMs: number }) {
  const { user, hooks, sync } = useTab();
  const status = useSelector((state: unknown) => sync.selectors.selectChannel(state, channel)?.status ?? 'closed');
  const [counts, setCounts] = useState({ sent: 0, received: 0 });
  const cursors = useExpiring<Point>(hideAfterMs);
  const pings = useExpiring<Ping>(PING_MS);

  const { send } = hooks.useBroadcast(channel, 'cursor', (payload) => {
    if (!isCursorMessage(payload)) return;
    setCounts((c) => ({ ...c, received: c.received + 1 }));
    if ('left' in payload) cursors.remove(payload.name);
    else cursors.put(payload.name, { x: payload.x, y: payload.y });
  });
  const ping = hooks.useBroadcast(channel, 'ping', (payload) => {
    if (isPing(payload)) pings.put(String(payload.id), payload);
  });

  const sendCursor = async (message: CursorMessage) => {
    const result = await send(message);
    if (result.status === 'ok') setCounts((c) => ({ ...c, sent: c.sent + 1 }));
  };
  const throttled = useThrottled((point: Point) => void sendCursor({ name: user.name, ...point }), CURSOR_INTERVAL_MS);

  const dropPing = (point: Point) => {
    const dropped: Ping = { id: Date.now() + Math.random(), name: user.name, ...point };
    pings.put(String(dropped.id), dropped);
    void ping.send(dropped);
  };

  return (
    <>
      <div className="row meta">
        <span className="grow-fill">
          Channel <code>{channel}</code>: <span aria-label="Channel status">{status}</span>
        </span>
        <span className="counter" aria-label="Cursor messages">
          {counts.sent} sent · {counts.received} received
        </span>
      </div>
      <div
        className="board"
        role="region"
        aria-label="Board"
        onPointerMove={(event) => throttled.call(pointIn(event))}
        onPointerLeave={() => {
          throttled.cancel(); // no move may follow the leave
          void sendCursor({ name: user.name, left: true });
        }}
        onClick={(event) => dropPing(pointIn(event))}
      >
        <p className="board-hint">Move the mouse here · click to ping</p>
        {[...pings.entries()].map(([id, p]) => (
          <span key={id} className="ping" role="img" aria-label={`${p.name} pinged`} style={{ ...at(p), borderColor: colorOf(p.name) }} />
        ))}
        {[...cursors.entries()].map(([name, point]) => (
          <Cursor key={name} name={name} point={point} />
        ))}
      </div>
    </>
  );
}

/** Another user's pointer: an arrow in their colour with their name. */
function Cursor({ name, point }: { name: string; point: Point }) {
  const color = colorOf(name);
  return (
    <div className="cursor" role="img" aria-label={`${name}'s cursor`} style={at(point)}>
      <svg width="16" height="20" viewBox="0 0 16 20" aria-hidden="true">
        <path d="M1 1 L1 16 L5 12.5 L8 19 L10.5 18 L7.6 11.6 L13 11.6 Z" fill={color} stroke="#fff" strokeWidth="1.2" strokeLinejoin="round" />
      </svg>
      <span style={{ background: color }}>{name}</span>
    </div>
  );
}

/** The pointer's position relative to the board it is over, each coordinate clamped to 0..1. */
function pointIn(event: MouseEvent<HTMLElement>): Point {
  const rect = event.currentTarget.getBoundingClientRect();
  const relative = (offset: number, size: number) => Math.round(Math.min(1, Math.max(0, offset / (size || 1))) * 1000) / 1000;
  return { x: relative(event.clientX - rect.left, rect.width), y: relative(event.clientY - rect.top, rect.height) };
}

function at({ x, y }: Point) {
  return { left: `${x * 100}%`, top: `${y * 100}%` };
}

/**
 * `fn` called at most once per `intervalMs`: the first call at once, later ones folded into one
 * call with the latest argument at the end of the interval. `cancel` drops a call still waiting.
 */
function useThrottled<T>(fn: (value: T) => void, intervalMs: number) {
  const state = useRef<{ last: number; pending: { value: T } | null; timer?: ReturnType<typeof setTimeout> }>({ last: -Infinity, pending: null });
  useEffect(() => () => clearTimeout(state.current.timer), []);
  const flush = () => {
    const s = state.current;
    s.timer = undefined;
    if (!s.pending) return;
    s.last = Date.now();
    const { value } = s.pending;
    s.pending = null;
    fn(value);
  };
  return {
    call(value: T) {
      const s = state.current;
      s.pending = { value };
      if (s.timer !== undefined) return;
      const wait = s.last + intervalMs - Date.now();
      if (wait <= 0) flush();
      else s.timer = setTimeout(flush, wait);
    },
    cancel() {
      clearTimeout(state.current.timer);
      state.current.timer = undefined;
      state.current.pending = null;
    },
  };
}

/** A keyed map whose entries go away `ttlMs` after they were last put (or at once with `remove`). */
function useExpiring<V>(ttlMs: number) {
  const [map, setMap] = useState<ReadonlyMap<string, V>>(new Map());
  const timers = useRef(new Map<string, ReturnType<typeof setTimeout>>());
  useEffect(() => {
    const all = timers.current;
    return () => all.forEach(clearTimeout);
  }, []);
  const remove = useCallback((key: string) => {
    clearTimeout(timers.current.get(key));
    timers.current.delete(key);
    setMap((m) => {
      if (!m.has(key)) return m;
      const next = new Map(m);
      next.delete(key);
      return next;
    });
  }, []);
  const put = useCallback(
    (key: string, value: V) => {
      clearTimeout(timers.current.get(key));
      timers.current.set(key, setTimeout(() => remove(key), ttlMs));
      setMap((m) => new Map(m).set(key, value));
    },
    [ttlMs, remove],
  );
  return { entries: () => map.entries(), put, remove };
}

const isUnit = (value: unknown): value is number => typeof value === 'number' && value >= 0 && value <= 1;

function isCursorMessage(payload: unknown): payload is CursorMessage {
  const message = payload as { name?: unknown; x?: unknown; y?: unknown; left?: unknown } | null;
  return typeof message?.name === 'string' && (message.left === true || (isUnit(message.x) && isUnit(message.y)));
}

function isPing(payload: unknown): payload is Ping {
  const p = payload as Partial<Ping> | null;
  return typeof p?.id === 'number' && typeof p.name === 'string' && isUnit(p.x) && isUnit(p.y);
}
