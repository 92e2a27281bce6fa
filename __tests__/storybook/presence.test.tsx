/**
 * @jest-environment ./__tests__/support/jsdomEnvironment.js
 */
// The "Realtime/Presence and typing" and "Realtime/Broadcast cursors" stories against the real test
// stack: two tabs, each with its own store and WebSocket, in a room (or on a board) named for the
// test. Presence, typing, chat and cursors travel from one tab to the other through the realtime server.
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { composeStories } from '@storybook/react-vite';
import * as cursorStories from '../../storybook/Cursors.stories';
import * as presenceStories from '../../storybook/Presence.stories';
import { closeSql } from '../support/stack';
import { demoUsers } from './demoUsers';

afterAll(closeSql);

const long = { timeout: 15_000 };
const tab = (label: string) => within(screen.getByRole('region', { name: label }));

/** The names in a tab's "Online" list (the avatars' labels), sorted. */
function onlineIn(label: string): string[] {
  const list = tab(label).queryByRole('list', { name: 'Online' });
  return list ? [...list.querySelectorAll('[role=img]')].map((avatar) => avatar.getAttribute('aria-label') ?? '').sort() : [];
}
const typingIn = (label: string) => tab(label).getByLabelText('Typing').textContent;
const messagesIn = (label: string) => [...tab(label).getByRole('list', { name: 'Messages' }).querySelectorAll('li .grow')].map((li) => li.textContent);

function type(label: string, text: string): void {
  fireEvent.change(tab(label).getByRole('textbox', { name: 'Message' }), { target: { value: text } });
}

describe('Realtime/Presence and typing', () => {
  it('both tabs see each other; typing shows in the other tab until Send, which delivers the message to both; leaving removes the avatar', async () => {
    const { tag, a, b, config } = await demoUsers();
    const { TwoTabs } = composeStories(presenceStories, { parameters: { demoStack: config } });
    // A typing state that outlives the test: only Send can clear it here.
    const view = render(<TwoTabs room={`presence-${tag}`} typingTimeoutMs={60_000} />);
    try {
      for (const label of ['Tab A', 'Tab B']) await waitFor(() => expect(onlineIn(label)).toEqual([a.name, b.name].sort()), long);
      expect(tab('Tab A').getByText(`${a.name} (you)`)).toBeTruthy();

      type('Tab A', 'Hello Br');
      await waitFor(() => expect(typingIn('Tab B')).toBe(`${a.name} is typing…`), long);
      expect(typingIn('Tab A')).toBe(''); // a tab doesn't announce its own user

      type('Tab A', 'Hello Brian');
      await act(async () => fireEvent.click(tab('Tab A').getByRole('button', { name: 'Send' })));
      await waitFor(() => expect(messagesIn('Tab B')).toEqual([`${a.name} Hello Brian`]), long);
      await waitFor(() => expect(typingIn('Tab B')).toBe(''), long);
      // `self: true`: the sender's own broadcast comes back to it.
      await waitFor(() => expect(messagesIn('Tab A')).toEqual(['You Hello Brian']), long);
      expect((tab('Tab A').getByRole('textbox', { name: 'Message' }) as HTMLInputElement).value).toBe('');

      fireEvent.click(tab('Tab A').getByRole('button', { name: 'Leave room' }));
      await waitFor(() => expect(onlineIn('Tab B')).toEqual([b.name]), long);
      expect(tab('Tab A').queryByRole('list', { name: 'Online' })).toBeNull();
      expect(tab('Tab A').getByRole('note').textContent).toContain('You left the room');
      // The messages seen stay after leaving.
      expect(messagesIn('Tab A')).toEqual(['You Hello Brian']);

      fireEvent.click(tab('Tab A').getByRole('button', { name: 'Join room' }));
      for (const label of ['Tab A', 'Tab B']) await waitFor(() => expect(onlineIn(label)).toEqual([a.name, b.name].sort()), long);
    } finally {
      view.unmount();
    }
  });

  it('the typing note goes away on its own once the user stops typing', async () => {
    const { tag, a, b, config } = await demoUsers();
    const { TwoTabs } = composeStories(presenceStories, { parameters: { demoStack: config } });
    const view = render(<TwoTabs room={`presence-idle-${tag}`} typingTimeoutMs={300} />);
    try {
      for (const label of ['Tab A', 'Tab B']) await waitFor(() => expect(onlineIn(label)).toEqual([a.name, b.name].sort()), long);
      type('Tab B', 'Hi');
      await waitFor(() => expect(typingIn('Tab A')).toBe(`${b.name} is typing…`), long);
      await waitFor(() => expect(typingIn('Tab A')).toBe(''), long);
    } finally {
      view.unmount();
    }
  });
});

/** Gives each tab's board a size (jsdom lays nothing out) and returns the boards. */
function boards() {
  const board = (label: string) => {
    const element = tab(label).getByRole('region', { name: 'Board' });
    element.getBoundingClientRect = () => ({ left: 100, top: 50, width: 400, height: 200, right: 500, bottom: 250, x: 100, y: 50, toJSON: () => ({}) });
    return element;
  };
  return { A: board('Tab A'), B: board('Tab B') };
}
/** A pointer move over `board` at page coordinates (jsdom has no PointerEvent; React reads clientX/Y of any event). */
function pointerMove(board: HTMLElement, clientX: number, clientY: number): void {
  fireEvent(board, new MouseEvent('pointermove', { bubbles: true, clientX, clientY }));
}
const counterIn = (label: string) => tab(label).getByLabelText('Cursor messages').textContent;
const cursorOf = (label: string, name: string) => tab(label).queryByRole('img', { name: `${name}'s cursor` }) as HTMLElement | null;

async function joinedBoards(TwoTabs: ReturnType<typeof composeStories<typeof cursorStories>>['TwoTabs'], channel: string, hideAfterMs: number) {
  const view = render(<TwoTabs channel={channel} hideAfterMs={hideAfterMs} />);
  for (const label of ['Tab A', 'Tab B']) await waitFor(() => expect(tab(label).getByLabelText('Channel status').textContent).toBe('joined'), long);
  return { view, ...boards() };
}

describe('Realtime/Broadcast cursors', () => {
  it("moves over tab A's board draw Ada's cursor in tab B, throttled, at the last position; leaving the board removes it; a click pings both", async () => {
    const { tag, a, b, config } = await demoUsers();
    const { TwoTabs } = composeStories(cursorStories, { parameters: { demoStack: config } });
    // Cursors that outlive the test: only the leave message can remove one here.
    const { view, A, B } = await joinedBoards(TwoTabs, `cursors-${tag}`, 60_000);
    try {
      expect(counterIn('Tab A')).toBe('0 sent · 0 received');
      // Five moves in one go: the first is sent at once, the other four fold into one send of the
      // last position (no timer can run between synchronous events).
      act(() => {
        for (const [x, y] of [[110, 60], [150, 80], [200, 100], [300, 120], [400, 100]]) pointerMove(A, x!, y!);
      });
      await waitFor(() => expect(cursorOf('Tab B', a.name)?.style.left).toBe('75%'), long);
      expect(cursorOf('Tab B', a.name)!.style.top).toBe('25%');
      expect(cursorOf('Tab B', a.name)!.textContent).toBe(a.name);
      await waitFor(() => expect(counterIn('Tab B')).toBe('0 sent · 2 received'), long);
      expect(counterIn('Tab A')).toBe('2 sent · 0 received');
      expect(cursorOf('Tab A', a.name)).toBeNull(); // a tab doesn't draw its own cursor

      fireEvent.pointerLeave(A);
      await waitFor(() => expect(cursorOf('Tab B', a.name)).toBeNull(), long);
      expect(counterIn('Tab B')).toBe('0 sent · 3 received');

      // The other way round, and the click's ping (a second event on the channel).
      pointerMove(B, 100, 250);
      await waitFor(() => expect(cursorOf('Tab A', b.name)?.style.top).toBe('100%'), long);
      expect(cursorOf('Tab A', b.name)!.style.left).toBe('0%');
      fireEvent.click(A, { clientX: 300, clientY: 150 });
      expect(tab('Tab A').getByRole('img', { name: `${a.name} pinged` }).style.left).toBe('50%');
      await waitFor(() => expect(tab('Tab B').getByRole('img', { name: `${a.name} pinged` }).style.top).toBe('50%'), long);
    } finally {
      view.unmount();
    }
  });

  it('a cursor that stops moving is hidden after hideAfterMs', async () => {
    const { tag, a, config } = await demoUsers();
    const { TwoTabs } = composeStories(cursorStories, { parameters: { demoStack: config } });
    const { view, A } = await joinedBoards(TwoTabs, `cursors-idle-${tag}`, 300);
    try {
      pointerMove(A, 300, 150);
      await waitFor(() => expect(cursorOf('Tab B', a.name)).not.toBeNull(), long);
      await waitFor(() => expect(cursorOf('Tab B', a.name)).toBeNull(), long);
      expect(counterIn('Tab B')).toBe('0 sent · 1 received'); // no leave message was sent
    } finally {
      view.unmount();
    }
  });
});
