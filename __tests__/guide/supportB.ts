/**
 * Shared by the guide-example tests 8–15 against the real stack: a guide app for a fresh author
 * (a uuid, a signed user token, `ws`, every action recorded), rows of `guide_posts` inserted as the
 * superuser, a real-time poll that also works under fake timers, and the per-test cleanup (unmount,
 * disconnect, close proxies, check every action and the state are serializable).
 */
import { findNonSerializableValue, type UnknownAction } from '@reduxjs/toolkit';
import { act, render, type RenderResult } from '@testing-library/react';
import { randomUUID } from 'node:crypto';
import { createElement, Fragment, type ReactElement, type ReactNode } from 'react';
import { WebSocket } from 'ws';
import { createGuideApp, type GuideAppOptions, type Post } from '../../examples/guide/setup';
import { QUERY_DATA_SET } from '../../lib/api/queryClient/contract';
import { actionRecorder } from '../support/store';
import { closeSql, sql, testStack } from '../support/stack';

// Captured before any test fakes the timers: polls wait in real time.
const realSetTimeout = globalThis.setTimeout;

const cleanups: Array<() => void | Promise<void>> = [];

/** Registers the cleanup of every app, view and proxy a test made (after each test), and the SQL pool's (after all). */
export function guideTests(): void {
  afterEach(async () => {
    const running = cleanups.splice(0).reverse();
    for (const cleanup of running) await cleanup();
  });
  afterAll(closeSql);
}

/** Runs `cleanup` after the current test. */
export function afterThisTest(cleanup: () => void | Promise<void>): void {
  cleanups.push(cleanup);
}

export type GuideApp = ReturnType<typeof guideApp>;

/** A guide app signed in as a fresh author (RLS: they see published rows and their own). */
export function guideApp(options: Partial<GuideAppOptions> = {}) {
  const stack = testStack();
  const author = randomUUID();
  const token = stack.signToken({ sub: author });
  const { middleware, actions } = actionRecorder();
  const app = createGuideApp({
    postgrestUrl: stack.postgrestUrl,
    realtimeUrl: stack.realtimeUrl,
    apiKey: stack.anonKey,
    getToken: () => token,
    WebSocket,
    environment: false,
    ...options,
    middleware: [middleware, ...(options.middleware ?? [])],
  });
  const views: RenderResult[] = [];
  afterThisTest(() => {
    for (const view of views) view.unmount();
    app.disconnect();
    expect(nonSerializable(actions, app.store.getState())).toEqual([]);
  });
  return {
    ...app,
    author,
    actions,
    /** Renders `ui` inside the app's providers (unmounted after the test, or by the caller). */
    render(ui: ReactElement): RenderResult {
      const view = render(createElement(app.GuideProvider, null, ui));
      views.push(view);
      return view;
    },
    /** How many actions of `type` were dispatched so far. */
    count(type: string): number {
      return actions.filter((action) => action.type === type).length;
    },
    /** The `dataSet` actions (setQueryData / setQueriesData / batch) so far. */
    dataSets(): Array<UnknownAction & { payload: { entries: Array<{ queryCacheKey: string }> } }> {
      return actions.filter((action) => action.type === QUERY_DATA_SET) as never;
    },
    /** Fetches started for the query key `queryKey` (its `executeQuery/pending` actions). */
    fetchesOf(queryKey: readonly unknown[]): number {
      return actions.filter((action) => action.type === `${app.api.reducerPath}/executeQuery/pending` && JSON.stringify((action.meta as { arg?: { originalArgs?: { queryKey?: unknown } } }).arg?.originalArgs?.queryKey) === JSON.stringify(queryKey)).length;
    },
  };
}

function nonSerializable(actions: UnknownAction[], state: unknown): unknown[] {
  const found: unknown[] = [];
  for (const action of actions) {
    // RTK's own check skips these paths (a mutation's meta.arg carries marker functions).
    const bad = findNonSerializableValue(action, '', undefined, undefined, ['meta.arg', 'meta.baseQueryMeta']);
    if (bad) found.push({ action: action.type, ...bad });
  }
  const badState = findNonSerializableValue(state);
  if (badState) found.push({ state: true, ...badState });
  return found;
}

/** Inserts posts by `author` (as the superuser), in order; returns the rows. */
export async function insertPosts(author: string, titles: string[], columns: Partial<Post> = {}): Promise<Post[]> {
  const rows: Post[] = [];
  for (const title of titles) {
    const [row] = await sql<Post>('insert into guide_posts (author_id, title, body, published) values ($1, $2, $3, $4) returning *', [author, title, columns.body ?? '', columns.published ?? true]);
    rows.push(asPost(row!));
  }
  return rows;
}

/** The row `id` as the database has it now. */
export async function postRow(id: number): Promise<Post> {
  const [row] = await sql<Post>('select * from guide_posts where id = $1', [id]);
  return asPost(row!);
}

/** pg returns bigint as text; PostgREST and the realtime server give the id as a number. */
function asPost(row: Post): Post {
  return { ...row, id: Number(row.id) };
}

/**
 * Retries `assertion` until it passes (throws its last error after `ms` of real time). Each try
 * first lets real I/O and React work run inside `act`, so it works with real and fake timers alike.
 */
export async function until(assertion: () => unknown, ms = 10_000): Promise<void> {
  const deadline = performance.now() + ms;
  for (;;) {
    await act(async () => {
      await new Promise((resolve) => realSetTimeout(resolve, 25));
    });
    try {
      await assertion();
      return;
    } catch (error) {
      if (performance.now() > deadline) throw error;
    }
  }
}

/** Dispatches a window event (`online`, `offline`, `focus`) inside act. */
export function fire(name: string): void {
  act(() => {
    window.dispatchEvent(new Event(name));
  });
}

/** The text of every element with `role` (listitems by default) under `container`. */
export function texts(container: HTMLElement, selector = 'li'): string[] {
  return [...container.querySelectorAll(selector)].map((element) => (element.textContent ?? '').trim());
}

type Mutation = { mutateAsync(variables: any): Promise<unknown>; status: string };

/**
 * Renders a component holding the mutation hook `useHook` (its status in "Mutation"), next to
 * `extra`; `run` calls mutateAsync inside act and resolves with the data or the error.
 */
export function mutationHarness(app: GuideApp, useHook: () => Mutation, extra?: ReactNode) {
  let latest: Mutation | undefined;
  function Editor() {
    latest = useHook();
    return createElement('p', { 'aria-label': 'Mutation' }, latest.status);
  }
  const view = app.render(createElement(Fragment, null, createElement(Editor), extra));
  return { view, run: (variables: unknown) => act(() => latest!.mutateAsync(variables).catch((error: unknown) => error)) };
}
