/**
 * The connection: connect and disconnect, the socket's status mirrored, the user's token sent when
 * the socket opens, on every heartbeat and on `refreshAuth`, and the browser's network and focus
 * events (a reconnect waiting out its backoff is tried at once when they say the app is back).
 */
import { followBrowser } from '../environment.js';
import type { SyncMiddlewareOptions } from '../options.js';
import type { HandlerContext, SyncHandler } from './types.js';

export type ConnectionOptions = Pick<SyncMiddlewareOptions<string>, 'getToken' | 'apiKey' | 'environment'>;

export function connectionHandler(context: HandlerContext, options: ConnectionOptions): SyncHandler {
  const { actions } = context;
  /** The app asked for a connection (connect without a later disconnect). */
  let wanted = false;

  async function refreshToken(): Promise<void> {
    const socket = context.socket();
    if (!options.getToken || !socket) return;
    try {
      const token = await options.getToken();
      // Signed out: back to the anon key, so channels stop seeing what the last user could.
      socket.setAuth(token ?? options.apiKey ?? null);
    } catch (error) {
      context.warn(`[rtk-postgrest sync] getToken failed: ${(error as Error)?.message ?? String(error)}`);
    }
  }

  function reconnectNow(): void {
    const socket = context.socket();
    if (wanted && socket && socket.state === 'reconnecting') socket.connect();
  }

  return {
    onStart(store) {
      if (options.environment === false) return;
      followBrowser(store.dispatch, { online: (value) => actions.environmentChanged({ online: value }), reconnectNow }, options.environment === true);
    },
    onAction(action) {
      if (actions.connect.match(action)) {
        wanted = true;
        context.ensureSocket().connect();
        void refreshToken();
      } else if (actions.refreshAuth.match(action)) {
        return refreshToken();
      } else if (actions.disconnect.match(action)) {
        wanted = false;
        context.socket()?.disconnect();
      }
      return undefined;
    },
    onAnyAction(action) {
      // Back online (the browser's event, or an app that tracks the network itself; an event, not a
      // command): a reconnect waiting out its backoff is tried now.
      if (actions.environmentChanged.match(action) && action.payload.online) reconnectNow();
      return undefined;
    },
    onSocketEvent(event) {
      if (event.type === 'status') {
        context.dispatch(
          actions.connectionChanged({
            status: event.status === 'open' ? 'open' : event.status === 'reconnecting' ? 'reconnecting' : event.status === 'connecting' ? 'connecting' : 'closed',
            ...(event.attempt !== undefined && { attempt: event.attempt }),
            ...(event.reason !== undefined && { error: event.reason }),
            at: context.now(),
          }),
        );
        if (event.status === 'open') void refreshToken();
      } else if (event.type === 'heartbeat') {
        if (event.status === 'sent') void refreshToken();
      } else if (event.type === 'error') {
        context.warn(`[rtk-postgrest sync] ${event.code}: ${event.message}`);
      }
    },
  };
}
