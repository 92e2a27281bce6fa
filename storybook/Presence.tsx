import { useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import type { DemoConfig } from './demoConfig';
import { Avatar, TwoTabs, useTab } from './DemoTab';

export interface PresenceDemoProps {
  /** The room both tabs join: its presence and its chat (one channel). */
  room?: string;
  /** How long after the last keystroke a user still counts as typing. */
  typingTimeoutMs?: number;
  /** Every PostgREST request of both tabs goes through it (the default is the global fetch). */
  fetchFn?: typeof fetch;
}

/** A chat message as it is broadcast. */
interface ChatMessage {
  id: string;
  from: string;
  text: string;
}

/**
 * Two tabs in one room: `usePresence` shows who is in it and who is typing (each tab tracks
 * `{ name, typing }`), `useBroadcast` carries the chat. "Leave room" unmounts the room's hooks, so
 * the tab untracks and leaves the channel: the other tab sees its avatar go.
 */
export function PresenceDemo({ config, room = 'presence-demo', typingTimeoutMs = 2000, fetchFn }: PresenceDemoProps & { config: DemoConfig }) {
  return (
    <>
      <p className="demo-lead">
        Each tab joins the room <code>{room}</code> with <code>usePresence(room, {'{ key, state }'})</code> and tracks its user's name and
        whether they are typing; the other tab reads it from the room's presence. Messages go out with <code>useBroadcast</code> (with{' '}
        <code>self: true</code>, so the sender sees its own). Leave the room in one tab and watch its avatar go in the other.
      </p>
      <TwoTabs config={config} fetchFn={fetchFn}>
        <RoomPanel room={room} typingTimeoutMs={typingTimeoutMs} />
      </TwoTabs>
    </>
  );
}

/** The room toggle, and the messages this tab has seen (kept while it is out of the room). */
function RoomPanel({ room, typingTimeoutMs }: { room: string; typingTimeoutMs: number }) {
  const [inRoom, setInRoom] = useState(true);
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const { user } = useTab();
  const chat = (
    <ul className="list chat" aria-label="Messages">
      {messages.length === 0 && <li className="empty">No messages yet.</li>}
      {messages.map((message) => (
        <li key={message.id}>
          <Avatar name={message.from} small />
          <span className="grow">
            <strong>{message.from === user.name ? 'You' : message.from}</strong> {message.text}
          </span>
        </li>
      ))}
    </ul>
  );
  return (
    <>
      <div className="row">
        <span className="meta grow-fill">
          Room <code>{room}</code>
        </span>
        <button type="button" className={inRoom ? 'danger' : 'primary'} onClick={() => setInRoom(!inRoom)}>
          {inRoom ? 'Leave room' : 'Join room'}
        </button>
      </div>
      {inRoom ? (
        <InRoom room={room} typingTimeoutMs={typingTimeoutMs} onMessage={(message) => setMessages((list) => [...list, message])}>
          {chat}
        </InRoom>
      ) : (
        <>
          <p className="banner info" role="note">
            You left the room: the other tab no longer sees you, and messages sent meanwhile don't reach you.
          </p>
          {chat}
        </>
      )}
    </>
  );
}

interface InRoomProps {
  room: string;
  typingTimeoutMs: number;
  onMessage: (message: ChatMessage) => void;
  /** The messages, shown between who is here and the typing line. */
  children: ReactNode;
}

/** Mounted while the tab is in the room: presence (tracked `{ name, typing }`), the typing line and the chat box. */
function InRoom({ room, typingTimeoutMs, onMessage, children }: InRoomProps) {
  const { user, hooks } = useTab();
  const [typing, setTyping] = useTyping(typingTimeoutMs);
  const [text, setText] = useState('');
  // Re-tracked whenever `typing` flips (the hook compares states by JSON), untracked on unmount.
  const { presenceState, onlineUsers } = hooks.usePresence(room, { key: user.name, state: { name: user.name, typing } });
  const { send } = hooks.useBroadcast(room, 'message', (payload) => {
    if (isChatMessage(payload)) onMessage(payload);
  }, { self: true });
  const [error, setError] = useState<string | null>(null);

  const typers = onlineUsers.filter((name) => name !== user.name && presenceState[name]?.some((meta) => meta.typing === true));
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const message: ChatMessage = { id: `${user.name}-${Date.now()}-${Math.random().toString(36).slice(2)}`, from: user.name, text: text.trim() };
    if (message.text === '') return;
    setText('');
    setTyping(false);
    const result = await send(message);
    setError(result.status === 'ok' ? null : `Not sent (${result.status}): the room is not joined yet.`);
  };

  return (
    <>
      <ul className="people" aria-label="Online">
        {onlineUsers.length === 0 && <li className="meta">Joining…</li>}
        {onlineUsers.map((name) => (
          <li key={name}>
            <Avatar name={name} small online />
            <span>{name === user.name ? `${name} (you)` : name}</span>
          </li>
        ))}
      </ul>
      {children}
      <p className="typing" aria-label="Typing" aria-live="polite">
        {typers.length > 0 && `${typers.join(' and ')} ${typers.length === 1 ? 'is' : 'are'} typing…`}
      </p>
      <form className="row" aria-label="Chat" onSubmit={submit}>
        <input
          aria-label="Message"
          placeholder="Say something…"
          value={text}
          onChange={(event) => {
            setText(event.target.value);
            setTyping(true);
          }}
          style={{ flex: 1 }}
        />
        <button type="submit" className="primary" disabled={text.trim() === ''}>
          Send
        </button>
      </form>
      {error && <p className="error">{error}</p>}
    </>
  );
}

/** `[typing, setTyping]`: `setTyping(true)` holds for `timeoutMs` after the last call, then turns false. */
function useTyping(timeoutMs: number): [boolean, (typing: boolean) => void] {
  const [typing, setTypingState] = useState(false);
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  const setTyping = (next: boolean) => {
    clearTimeout(timer.current);
    setTypingState(next);
    if (next) timer.current = setTimeout(() => setTypingState(false), timeoutMs);
  };
  return [typing, setTyping];
}

function isChatMessage(payload: unknown): payload is ChatMessage {
  const message = payload as Partial<ChatMessage> | null;
  return typeof message?.id === 'string' && typeof message.from === 'string' && typeof message.text === 'string';
}
