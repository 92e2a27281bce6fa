import type { Meta, StoryObj } from '@storybook/react-vite';
import { liveStory } from './DemoStack';
import { LiveSync, type LiveSyncProps } from './LiveSync';

/**
 * Live sync: `createSyncMiddleware` keeps `useLiveQuery` entries equal to the database through the
 * stack's realtime server; `usePresence` and `useSyncStatus` read its mirror. Two stores stand for
 * two browser tabs: publish a post in one and watch it appear in the other, with no refetch.
 */
const meta = {
  title: 'Sync/Live sync (two tabs)',
  // The config comes from parameters (as withDemoStack reads it), but each tab builds its own store.
  render: liveStory(2, LiveSync),
} satisfies Meta<LiveSyncProps>;
export default meta;
type Story = StoryObj<typeof meta>;

/** Tab A is the first demo user, tab B the second; both join the presence room "live-sync-demo". */
export const TwoTabs: Story = {};
