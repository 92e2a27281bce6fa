import { useLayoutEffect, useRef, useSyncExternalStore } from 'react';
import { useNetwork } from './DemoTab';
import type { DemoNetwork } from './network';
import type { RecordedAction, TimeTravel } from './timeTravel';

/** How many of the latest actions the log lists (the slider reaches every recorded one). */
const SHOWN = 200;

/**
 * An in-page Redux DevTools: every action the tab's store saw, newest last, and a slider that shows
 * the store as it was after any of them. Scrubbing re-renders the tab from recorded states only: the
 * request counter (kept outside the store) does not move. The Redux DevTools extension, when
 * installed, sees the same store too (configureStore's `devTools`).
 */
export function DevToolsPanel({ timeTravel, network, label = 'DevTools' }: { timeTravel: TimeTravel; network: DemoNetwork; label?: string }) {
  const { entries, viewing } = useSyncExternalStore(timeTravel.subscribe, timeTravel.getSnapshot);
  const { requests } = useNetwork(network);
  const last = entries.length - 1;
  const position = viewing === null ? last : entries.findIndex((entry) => entry.seq === viewing);
  const current = entries[position];
  const go = (index: number) => timeTravel.jumpTo(index >= last ? null : entries[index]!.seq);
  const shown = entries.slice(-SHOWN);
  const log = useRef<HTMLOListElement>(null);
  // Keep the shown action in view inside the log (never scrolling the page).
  useLayoutEffect(() => {
    const list = log.current;
    const line = list?.querySelector<HTMLElement>('[aria-current]');
    if (!list || !line) return;
    if (line.offsetTop < list.scrollTop || line.offsetTop + line.offsetHeight > list.scrollTop + list.clientHeight) {
      list.scrollTop = line.offsetTop - list.clientHeight / 2;
    }
  }, [position, entries.length]);

  return (
    <aside className="devtools" aria-label={label}>
      <div className="row" style={{ marginTop: 0 }}>
        <h3 style={{ flex: 1 }}>{label}</h3>
        <span className="counter" aria-label="Requests while scrubbing">
          {requests} {requests === 1 ? 'request' : 'requests'} sent
        </span>
      </div>
      <input
        type="range"
        aria-label="Time travel"
        min={0}
        max={Math.max(last, 0)}
        value={Math.max(position, 0)}
        disabled={entries.length < 2}
        onChange={(event) => go(Number(event.target.value))}
      />
      <div className="row">
        <button type="button" onClick={() => go(position - 1)} disabled={position <= 0}>
          ◀ Back
        </button>
        <button type="button" onClick={() => go(position + 1)} disabled={position >= last}>
          Forward ▶
        </button>
        <button type="button" onClick={() => timeTravel.jumpTo(null)} disabled={viewing === null}>
          Live
        </button>
        <span className="counter" aria-label="Position" style={{ marginLeft: 'auto' }}>
          {viewing === null ? `live · ${entries.length} actions` : `action ${position + 1} of ${entries.length}`}
        </span>
      </div>
      {current && (
        <div className="counter" aria-label="Shown action" style={{ overflowWrap: 'anywhere' }}>
          {viewing === null ? 'Latest: ' : 'Showing the state after: '}
          <code style={{ background: '#2a3042', color: '#fff' }}>{current.type}</code>
        </div>
      )}
      <ol className="log" aria-label="Actions" ref={log}>
        {shown.map((entry, i) => (
          <LogLine key={entry.seq} entry={entry} index={entries.length - shown.length + i} position={position} onPick={go} />
        ))}
      </ol>
    </aside>
  );
}

function LogLine({ entry, index, position, onPick }: { entry: RecordedAction; index: number; position: number; onPick: (index: number) => void }) {
  const state = index === position ? 'current' : index > position ? 'future' : '';
  return (
    <li className={state} onClick={() => onPick(index)} aria-current={index === position ? 'step' : undefined}>
      <span className="seq">{index + 1}</span>
      <span>{entry.type}</span>
    </li>
  );
}
