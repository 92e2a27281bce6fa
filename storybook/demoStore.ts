import { configureStore, createSlice, type PayloadAction } from '@reduxjs/toolkit';
import { createPostgrestApi } from '../lib/react';
import type { DemoConfig } from './demoConfig';

/** Who the demo acts as: a user id from the config, or null for anonymous (the anon key). */
export interface SessionState {
  userId: string | null;
}

const session = createSlice({
  name: 'session',
  initialState: { userId: null } as SessionState,
  reducers: {
    signedIn(state, action: PayloadAction<string | null>) {
      state.userId = action.payload;
    },
  },
});

/** The api slice, store and session actions behind one mounted demo. */
export function createDemoStore(config: DemoConfig, initialUserId: string | null = null) {
  // Tokens stay in this closure: the store (and Redux DevTools) only ever sees the user id.
  const tokens = new Map(config.users.map((user) => [user.id, user.token]));
  const api = createPostgrestApi({
    url: config.postgrestUrl,
    apiKey: config.anonKey,
    getToken: ({ getState }) => {
      const userId = (getState() as { session: SessionState }).session.userId;
      return userId === null ? undefined : tokens.get(userId);
    },
  });
  const store = configureStore({
    reducer: { session: session.reducer, [api.reducerPath]: api.reducer },
    middleware: (getDefault) => getDefault().concat(api.middleware),
    preloadedState: { session: { userId: initialUserId } },
  });

  /**
   * Switches identity. Cached rows were read with the previous token (another user's drafts), so
   * the cache is reset rather than invalidated: mounted queries refetch and never show stale rows.
   */
  function switchUser(userId: string | null): void {
    store.dispatch(session.actions.signedIn(userId));
    store.dispatch(api.util.resetApiState());
  }

  return { api, store, switchUser, config };
}

export type DemoStore = ReturnType<typeof createDemoStore>;
export type DemoApi = DemoStore['api'];
export type DemoState = ReturnType<DemoStore['store']['getState']>;
