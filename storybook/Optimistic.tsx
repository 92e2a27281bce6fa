import { useMemo, useState, type FormEvent } from 'react';
import { Provider, useSelector } from 'react-redux';
import { from } from '../lib/postgrest';
import type { DemoConfig } from './demoConfig';
import { ErrorBox } from './ErrorBox';
import type { LiveState, LiveStore } from './liveStore';
import { useTabStore } from './useTabStore';
import { liveFeedQuery, publishPost, type LivePost } from './posts';

/**
 * An optimistic publish: the post is in the live feed the moment the button is pressed (marked
 * "saving…" until the server's row replaces it); a post PostgREST refuses (an empty title breaks the
 * table's check) disappears again on its own, and its error is shown.
 */
export function OptimisticFeed({ config, fetchFn }: { config: DemoConfig; fetchFn?: typeof fetch }) {
  const tab = useTabStore(config, 0, fetchFn);
  return (
    <Provider store={tab.store}>
      <section aria-label="Optimistic feed" style={{ fontFamily: 'sans-serif', maxWidth: 560 }}>
        <Publish tab={tab} />
        <Feed tab={tab} />
      </section>
    </Provider>
  );
}

function Publish({ tab }: { tab: LiveStore }) {
  const [title, setTitle] = useState('');
  const { writes, dismiss } = tab.hooks.usePendingWrites('posts');
  const failed = writes.filter((write) => write.status === 'rolledBack');
  const publish = (text: string) => {
    // Shown at once; the promise settles when the server answered (committed or rolled back).
    void tab.store.dispatch(tab.api.endpoints.write.initiate(publishPost(text, tab.user.id).optimistic()));
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    publish(title);
    setTitle('');
  };
  return (
    <form aria-label="Publish" onSubmit={submit}>
      <label>
        Title <input value={title} onChange={(event) => setTitle(event.target.value)} />
      </label>{' '}
      <button type="submit">Publish</button>{' '}
      <button type="button" onClick={() => publish('')}>
        Publish an empty title (fails)
      </button>
      {failed.map((write) => (
        <div key={write.id}>
          <ErrorBox title="Rolled back" error={write.error} />
          <button type="button" onClick={() => dismiss(write.id)}>
            Dismiss
          </button>
        </div>
      ))}
    </form>
  );
}

function Feed({ tab }: { tab: LiveStore }) {
  const authorIds = useMemo(() => tab.config.users.map((user) => user.id), [tab]);
  const { data } = tab.api.useLiveQuery(liveFeedQuery(authorIds));
  const { isPending, clientKey } = tab.hooks.usePendingWrites('posts');
  const posts = (data ?? []) as LivePost[];
  return (
    <ul aria-label="Posts">
      {posts.map((post) => (
        <li key={clientKey(post)}>
          <strong>{post.title || '(empty)'}</strong> {isPending(post) && <small>saving…</small>}
        </li>
      ))}
    </ul>
  );
}

/** A document both tabs edit (`docs`: id, title, body, version). */
export interface Doc {
  id: number;
  title: string;
  body: string;
  version: number;
}

/**
 * Two tabs editing one document, each from the version it loaded (plain reads: they don't hear each
 * other until they reload). Saving with `merge` keeps both tabs' fields; saving with "ask me" makes
 * a conflict the tab settles with "Keep mine" or "Take theirs".
 */
export function ConflictTabs({ config, docId, fetchFn }: { config: DemoConfig; docId: number; fetchFn?: typeof fetch }) {
  return (
    <div style={{ display: 'flex', gap: 16, fontFamily: 'sans-serif' }}>
      <EditorTab label="Tab A" field="title" config={config} userIndex={0} docId={docId} fetchFn={fetchFn} />
      <EditorTab label="Tab B" field="body" config={config} userIndex={1} docId={docId} fetchFn={fetchFn} />
    </div>
  );
}

function EditorTab({ label, field, config, userIndex, docId, fetchFn }: { label: string; field: 'title' | 'body'; config: DemoConfig; userIndex: number; docId: number; fetchFn?: typeof fetch }) {
  const tab = useTabStore(config, userIndex, fetchFn);
  return (
    <Provider store={tab.store}>
      <section aria-label={label} style={{ flex: 1, border: '1px solid #ccc', borderRadius: 6, padding: 8 }}>
        <h3 style={{ margin: '0 0 6px' }}>{label}</h3>
        <Editor tab={tab} field={field} docId={docId} />
        <Conflicts tab={tab} />
      </section>
    </Provider>
  );
}

const docQuery = (id: number) => from<Doc>('docs').select('*').eq('id', id);

function Editor({ tab, field, docId }: { tab: LiveStore; field: 'title' | 'body'; docId: number }) {
  const { data, refetch, isError, error } = tab.api.useReadQuery(docQuery(docId));
  const doc = (data as Doc[] | undefined)?.[0];
  const [text, setText] = useState('');
  const save = (strategy: 'merge' | 'server-wins') => {
    if (!doc) return;
    void tab.store.dispatch(
      tab.api.endpoints.write.initiate(
        from('docs').update({ [field]: text, version: doc.version + 1 }).eq('id', doc.id).optimistic({ conflict: { column: 'version', strategy } }),
      ),
    );
  };
  return (
    <div>
      {isError && <ErrorBox title="Could not load the document" error={error} />}
      <p aria-label="Document">
        {doc ? `“${doc.title}” — ${doc.body || '(no body)'} (version ${doc.version})` : 'Loading…'}
      </p>
      <label>
        New {field} <input aria-label={`New ${field}`} value={text} onChange={(event) => setText(event.target.value)} />
      </label>{' '}
      <button type="button" onClick={() => save('merge')}>
        Save (merge)
      </button>{' '}
      <button type="button" onClick={() => save('server-wins')}>
        Save (ask me)
      </button>{' '}
      <button type="button" onClick={() => void refetch()}>
        Reload
      </button>
    </div>
  );
}

function Conflicts({ tab }: { tab: LiveStore }) {
  const { open, resolve } = tab.hooks.useConflicts();
  const count = useSelector((state: LiveState) => state.sync.conflicts.length);
  return (
    <div aria-label="Conflicts">
      <small>Conflicts so far: {count}</small>
      {open.map((conflict) => (
        <div key={conflict.id} role="alert" style={{ border: '1px solid #d90', padding: 6, marginTop: 6 }}>
          Someone else changed this document: yours “{String(conflict.local?.title)}” / “{String(conflict.local?.body)}”, theirs “{String(conflict.server?.title)}” / “
          {String(conflict.server?.body)}”.{' '}
          <button type="button" onClick={() => void resolve(conflict.id, 'client')}>
            Keep mine
          </button>{' '}
          <button type="button" onClick={() => void resolve(conflict.id, 'server')}>
            Take theirs
          </button>
        </div>
      ))}
    </div>
  );
}
