import type { Meta, StoryObj } from '@storybook/react-vite';
import { liveStory } from './DemoStack';
import { OfflineOutbox, RealtimeDownTabs } from './Offline';

/**
 * Offline: the outbox keeps writes made without a network and sends them in order when it is back;
 * a realtime server that can't be reached makes a tab `degraded`, and its live entries are polled.
 * Outbox: switch Tab A offline, publish a few posts, watch them wait, switch it back online.
 * Realtime down: cut Tab A's realtime connection, publish in Tab B, watch A poll, restore it.
 */
const meta: Meta = {
  title: 'Offline',
};
export default meta;
type Story = StoryObj;

/** Tab A offline: posts show at once and queue in its outbox; back online they are sent in order and reach Tab B in that order. */
export const Outbox: Story = { render: liveStory(2, OfflineOutbox) };

/** Tab A's realtime server unreachable: `degraded` after 2 s, its feed polled (a post from Tab B still arrives); switched back: `synced`, no more polling. */
export const RealtimeDown: Story = { render: liveStory(2, RealtimeDownTabs) };
