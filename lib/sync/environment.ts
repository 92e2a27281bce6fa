/**
 * The browser's online / offline / focus / visibility events, for RTK Query (as its own
 * `setupListeners` does) and for the socket (a reconnect waiting out its backoff is tried at once).
 */
import type { Dispatch, UnknownAction } from '@reduxjs/toolkit';
import { setupListeners } from '@reduxjs/toolkit/query';

export interface EnvironmentHooks {
  /** The mirror's action for the network state. */
  online(value: boolean): UnknownAction;
  reconnectNow(): void;
}

/** Follows the window's events when there is a window (or `force`). */
export function followBrowser(storeDispatch: Dispatch, hooks: EnvironmentHooks, force: boolean): void {
  const browser = (globalThis as { window?: { addEventListener?: unknown } }).window;
  if (!force && typeof browser?.addEventListener !== 'function') return;
  setupListeners(storeDispatch, (dispatch, rtk) => {
    const target = globalThis as unknown as Window;
    const onOnline = () => {
      dispatch(rtk.onOnline());
      // The connection handler tries a waiting reconnect at once on this action (the app's own too).
      dispatch(hooks.online(true));
    };
    const onOffline = () => {
      dispatch(rtk.onOffline());
      dispatch(hooks.online(false));
    };
    const onFocus = () => {
      dispatch(rtk.onFocus());
      hooks.reconnectNow();
    };
    const onVisibility = () => {
      if (target.document?.visibilityState === 'visible') onFocus();
      else dispatch(rtk.onFocusLost());
    };
    target.addEventListener('online', onOnline, false);
    target.addEventListener('offline', onOffline, false);
    target.addEventListener('focus', onFocus, false);
    target.addEventListener('visibilitychange', onVisibility, false);
    // Not while the store is being built (no dispatch from a middleware under construction).
    if (target.navigator && target.navigator.onLine === false) queueMicrotask(onOffline);
    return () => {
      target.removeEventListener('online', onOnline);
      target.removeEventListener('offline', onOffline);
      target.removeEventListener('focus', onFocus);
      target.removeEventListener('visibilitychange', onVisibility);
    };
  });
}
