/**
 * What the guide example tests (examples 1–7) share: a fresh author per test, the guide's app
 * against the test stack (`ws` as the WebSocket, every action recorded, fetches counted), rows
 * written with SQL, a fetch that can hold requests, a socket that can hold what the server sends,
 * and the clean-up (unmount, disconnect every app).
 */
import { randomUUID } from 'node:crypto';
import { findNonSerializableValue, type UnknownAction } from '@reduxjs/toolkit';
import { jest } from '@jest/globals';
import { act, cleanup } from '@testing-library/react';
import { WebSocket } from 'ws';
import { createGuideApp, type Post } from '../../examples/guide/setup';
import { sql, testStack } from '../support/stack';
import { actionRecorder } from '../support/store';

/** waitFor's options for what crosses the stack (PostgREST, replication, the realtime server). */
export const long = { timeout: 15_000 };

// Taken before any test fakes the timers.
const realSetTimeout = globalThis.setTimeout;

/**
 * `waitFor` for tests under fake timers. waitFor measures its timeout in fake time, and advances it
 * 50 ms a poll, so a slow request could let a minute of fake time pass (or time out) before it
 * lands. This polls every 20 ms of real time, up to `ms`, moving fake time by 10 ms a poll only
 * (enough for RTK's batched notifications, a 10 ms timer, to reach React).
 */
export async function waitUnderFakeTimers(assertion: () => unknown, ms = 15_000): Promise<void> {
  for (let waited = 0; ; waited += 20) {
    try {
      await assertion();
      return;
    } catch (error) {
      if (waited >= ms) throw error;
    }
    await act(async () => {
      jest.advanceTimersByTime(10);
      await new Promise((resolve) => realSetTimeout(resolve, 20));
    });
  }
}

export interface Author {
  id: string;
  token: string;
  /** A short unique tag for this author's titles. */
  tag: string;
}

/** A fresh author (a uuid nobody else uses) and a token PostgREST and the realtime server accept for it. */
export function newAuthor(): Author {
  const id = randomUUID();
  return { id, token: testStack().signToken({ sub: id }), tag: id.slice(0, 8) };
}

export type GuideTestApp = ReturnType<typeof guideApp>;
/** An `executeQuery/*` action as the tests read it (`condition`: RTK skipped it, one was running). */
export type QueryAction = UnknownAction & { meta?: { arg?: { queryCacheKey?: string }; condition?: boolean }; error?: { name?: string } };
const apps: Array<{ disconnect(): void }> = [];

/**
 * The guide's app for `author` (anon without one), recording every action. `fetchFn` wraps the
 * network (see `holdingFetch`), `WebSocket` the socket (see `HoldingWebSocket`).
 */
export function guideApp(author?: Author, options: { fetchFn?: typeof fetch; WebSocket?: unknown; environment?: false } = {}) {
  const stack = testStack();
  const { middleware, actions } = actionRecorder();
  const app = createGuideApp({
    postgrestUrl: stack.postgrestUrl,
    realtimeUrl: stack.realtimeUrl,
    apiKey: stack.anonKey,
    getToken: () => author?.token ?? null,
    WebSocket: options.WebSocket ?? WebSocket,
    middleware: [middleware],
    ...(options.fetchFn && { fetchFn: options.fetchFn }),
    ...(options.environment === false && { environment: false as const }),
  });
  apps.push(app);
  return {
    ...app,
    actions,
    /** RTK's `executeQuery/<stage>` actions of one entry. */
    queryActions(stage: 'pending' | 'fulfilled' | 'rejected', queryCacheKey: string): QueryAction[] {
      return (actions as QueryAction[]).filter((a) => a.type === `${app.api.reducerPath}/executeQuery/${stage}` && a.meta?.arg?.queryCacheKey === queryCacheKey);
    },
    /** How many fetches of the entry started (RTK's `executeQuery/pending`; a fetch RTK skipped has none). */
    fetches(queryCacheKey: string): number {
      return this.queryActions('pending', queryCacheKey).length;
    },
    /** Non-serializable values in any action or the state (RTK's own check, with its default ignored paths). */
    nonSerializable(): unknown[] {
      const found: unknown[] = [];
      for (const action of actions as UnknownAction[]) {
        const bad = findNonSerializableValue(action, '', undefined, undefined, ['meta.arg', 'meta.baseQueryMeta']);
        if (bad) found.push({ action: action.type, ...bad });
      }
      const state = findNonSerializableValue(app.store.getState());
      if (state) found.push({ state: true, ...state });
      return found;
    },
  };
}

/** Unmounts what the test rendered and disconnects every app's socket (call in afterEach). */
export function closeApps(): void {
  cleanup();
  for (const app of apps.splice(0)) app.disconnect();
}

/** Inserts posts of `author` with SQL (as another writer would), in order; returns them. */
export async function insertPosts(author: Author, rows: Array<Partial<Pick<Post, 'title' | 'body' | 'published'>> & { title: string }>): Promise<Post[]> {
  const out: Post[] = [];
  for (const row of rows) {
    const [inserted] = await sql<Post>('insert into guide_posts (author_id, title, body, published) values ($1, $2, $3, $4) returning *', [author.id, row.title, row.body ?? '', row.published ?? false]);
    out.push({ ...inserted!, id: Number(inserted!.id) });
  }
  return out;
}

/**
 * A fetch that passes everything through, except that `hold(matches)` holds the next request it
 * matches until the returned `release()`; `held` resolves once that request was made.
 */
export function holdingFetch() {
  const holds: Array<{ matches: (method: string, url: URL) => boolean; gate: Promise<void>; arrived: () => void }> = [];
  const fetchFn: typeof fetch = async (input, init) => {
    const request = new Request(input as RequestInfo, init);
    const url = new URL(request.url);
    const index = holds.findIndex((hold) => hold.matches(request.method, url));
    if (index >= 0) {
      const [hold] = holds.splice(index, 1);
      hold!.arrived();
      await hold!.gate;
    }
    return fetch(input, init);
  };
  return {
    fetchFn,
    hold(matches: (method: string, url: URL) => boolean) {
      let release!: () => void;
      let arrived!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const held = new Promise<void>((resolve) => (arrived = resolve));
      holds.push({ matches, gate, arrived });
      return { release, held };
    },
  };
}

/**
 * `ws`'s WebSocket, whose incoming messages can be held back (as a slow realtime path would
 * deliver them) and then delivered in order.
 */
export class HoldingWebSocket extends WebSocket {
  static held: Array<() => void> | null = null;
  /** Holds every message any HoldingWebSocket receives from now on. */
  static hold(): void {
    HoldingWebSocket.held ??= [];
  }
  /** Delivers the held messages in order and stops holding. */
  static deliver(): void {
    const held = HoldingWebSocket.held ?? [];
    HoldingWebSocket.held = null;
    for (const emit of held) emit();
  }
  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'message' && HoldingWebSocket.held) {
      HoldingWebSocket.held.push(() => super.emit(event, ...args));
      return true;
    }
    return super.emit(event, ...args);
  }
}
