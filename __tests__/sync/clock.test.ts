/**
 * Timers and the clock are injectable: every timer of the middleware and its socket runs on the
 * `timers` given, and every `at` it records reads the `now` given, so tests can drive them.
 */
import { configureStore, type UnknownAction } from '@reduxjs/toolkit';
import { createSyncMiddleware } from '../../lib/sync';
import { actionRecorder } from '../support/store';
import { FakeSocket, until } from './support/fakeRealtime';

/** Timers that only run when the test says so. */
function manualTimers() {
  const pending = new Map<number, { callback: () => void; ms: number }>();
  let next = 0;
  return {
    timers: {
      setTimeout: (callback: () => void, ms: number) => (pending.set(++next, { callback, ms }), next),
      clearTimeout: (handle: unknown) => void pending.delete(handle as number),
    },
    delays: () => [...pending.values()].map((timer) => timer.ms),
    /** Runs (and removes) every pending timer of `ms`. */
    fire(ms: number) {
      for (const [handle, timer] of [...pending]) {
        if (timer.ms !== ms) continue;
        pending.delete(handle);
        timer.callback();
      }
    },
  };
}

afterEach(() => {
  FakeSocket.all.length = 0;
});

test('heartbeats and reconnects wait on the injected timers, and actions carry the injected clock', async () => {
  const manual = manualTimers();
  const sync = createSyncMiddleware({
    url: 'ws://realtime.test/realtime/v1',
    WebSocket: FakeSocket as never,
    vsn: '1.0.0', // the fake server's frames
    timers: manual.timers,
    now: () => 1_700_000_000_000,
    heartbeatIntervalMs: 12_345,
    reconnect: { minDelayMs: 777, maxDelayMs: 777 },
    degradedAfterMs: 55_555,
    environment: false,
  });
  const { middleware: recorder, actions } = actionRecorder();
  const store = configureStore({ reducer: { [sync.reducerPath]: sync.reducer }, middleware: (getDefault) => getDefault().concat(sync.middleware, recorder) });
  store.dispatch(sync.actions.subscribe({ channel: 'feed', config: { postgresChanges: [{ event: '*', schema: 'public', table: 'notes' }] } }));
  expect(await until(() => sync.selectors.selectChannel(store.getState(), 'feed')?.changesLive === true)).toBe(true);
  const stamped = actions.filter((action: UnknownAction) => (action.payload as { at?: unknown } | undefined)?.at !== undefined);
  expect(stamped.length).toBeGreaterThan(0);
  expect(stamped.every((action: UnknownAction) => (action.payload as { at: number }).at === 1_700_000_000_000)).toBe(true);
  expect(manual.delays()).toContain(12_345); // the next heartbeat

  // The connection drops: the reconnect waits for the injected timer, and nothing else reopens it.
  FakeSocket.last.readyState = 3;
  FakeSocket.last.onclose?.({ code: 1006, reason: '' });
  // Only the reconnect and the countdown to `degraded` are pending (the heartbeat stopped with the
  // connection), the reconnect's delay drawn with full jitter up to the 777 ms policy.
  expect(manual.delays()).toContain(55_555);
  const delays = manual.delays().filter((ms) => ms !== 55_555);
  expect(delays).toHaveLength(1);
  expect(delays[0]).toBeLessThanOrEqual(777);
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(FakeSocket.all).toHaveLength(1);
  manual.fire(delays[0]!);
  await new Promise((resolve) => setTimeout(resolve, 0)); // the WebSocket is made after a task (reconnecting-websocket)
  expect(FakeSocket.all).toHaveLength(2);
  store.dispatch(sync.actions.disconnect());
});

test('timers and now are checked at construction', () => {
  const base = { url: 'ws://realtime.test/realtime/v1', WebSocket: FakeSocket as never };
  expect(() => createSyncMiddleware({ ...base, timers: { setTimeout: () => 0 } as never })).toThrow('createSyncMiddleware: timers must have setTimeout and clearTimeout functions');
  expect(() => createSyncMiddleware({ ...base, now: 5 as never })).toThrow('createSyncMiddleware: now must be a function returning milliseconds');
});
