import { useState, type FormEvent } from 'react';
import { useSelector } from 'react-redux';
import { from } from '../lib/postgrest';
import type { DemoConfig } from './demoConfig';
import { DemoTab, useTab } from './DemoTab';
import { ErrorBox, messageOf } from './ErrorBox';
import { LiveFeed } from './LiveFeed';
import type { LiveState } from './liveStore';
import { publishPost } from './posts';

/**
 * An optimistic publish: the post is in the live feed the moment the button is pressed (marked
 * "saving…" until the server's row replaces it); a post PostgREST refuses (an empty title breaks the
 * table's check) disappears again on its own, and its error is shown.
 */
export function OptimisticFeed({ config, fetchFn }: { config: DemoConfig; fetchFn?: typeof fetch }) {
  return (
    <>
      <p className="demo-lead">
        A write made <code>.optimistic()</code> is in the feed the moment you press Publish, marked “saving…” until the server's row replaces it. An empty title breaks the table's check: the server refuses it and only that write is taken back, with the reason.
      </p>
      <div className="tabs" style={{ maxWidth: 620 }}>
        <DemoTab label="Optimistic feed" config={config} userIndex={0} fetchFn={fetchFn}>
          <Publish />
          <LiveFeed />
        </DemoTab>
      </div>
    </>
  );
}

function Publish() {
  const tab = useTab();
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
      <div className="row">
        <input aria-label="Title" placeholder="Write a post title…" value={title} onChange={(event) => setTitle(event.target.value)} style={{ flex: 1 }} />
        <button type="submit" className="primary">
          Publish
        </button>
        <button type="button" onClick={() => publish('')}>
          Publish an empty title (fails)
        </button>
      </div>
      {failed.map((write) => (
        <div key={write.id}>
          <ErrorBox title="Rolled back" error={write.error} explanation={`the server refused the post (${messageOf(write.error)}), so it was taken out of the feed again`} />
          <button type="button" onClick={() => dismiss(write.id)}>
            Dismiss
          </button>
        </div>
      ))}
    </form>
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
    <>
      <p className="demo-lead">
        Both tabs loaded version 1 of one document. Save the title in tab A, then the body in tab B: with <code>merge</code> both edits are kept; with “ask me” tab B gets a conflict to settle with Keep mine or Take theirs. The <code>version</code> column is the check.
      </p>
      <div className="tabs">
        <DemoTab label="Tab A" config={config} userIndex={0} fetchFn={fetchFn}>
          <Editor field="title" docId={docId} />
          <Conflicts />
        </DemoTab>
        <DemoTab label="Tab B" config={config} userIndex={1} fetchFn={fetchFn}>
          <Editor field="body" docId={docId} />
          <Conflicts />
        </DemoTab>
      </div>
    </>
  );
}

const docQuery = (id: number) => from<Doc>('docs').select('*').eq('id', id);

function Editor({ field, docId }: { field: 'title' | 'body'; docId: number }) {
  const tab = useTab();
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
      <p aria-label="Document" className="banner info">
        {doc ? `“${doc.title}” — ${doc.body || '(no body)'} (version ${doc.version})` : 'Loading…'}
      </p>
      <div className="row">
        <input aria-label={`New ${field}`} placeholder={`New ${field}`} value={text} onChange={(event) => setText(event.target.value)} style={{ flex: 1 }} />
      </div>
      <div className="row">
        <button type="button" className="primary" onClick={() => save('merge')}>
          Save (merge)
        </button>
        <button type="button" onClick={() => save('server-wins')}>
          Save (ask me)
        </button>
        <button type="button" onClick={() => void refetch()}>
          Reload
        </button>
      </div>
    </div>
  );
}

function Conflicts() {
  const tab = useTab();
  const { open, resolve } = tab.hooks.useConflicts();
  const count = useSelector((state: LiveState) => state.sync.conflicts.length);
  return (
    <div aria-label="Conflicts">
      <span className="meta">Conflicts so far: {count}</span>
      {open.map((conflict) => (
        <div key={conflict.id} role="alert" className="banner warn" style={{ marginTop: 8 }}>
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
