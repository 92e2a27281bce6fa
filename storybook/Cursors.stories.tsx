import type { Meta, StoryObj } from '@storybook/react-vite';
import { CursorsDemo, type CursorsDemoProps } from './Cursors';
import { liveStory } from './DemoStack';

/**
 * Broadcast cursors: two tabs share one broadcast channel. Try: move the mouse over tab A's board and
 * see Ada's cursor follow in tab B (the counters show messages sent and received); move out and it
 * goes at once; stop moving and it goes after three seconds; click to drop a ping on both boards.
 */
const meta = {
  title: 'Realtime/Broadcast cursors',
  args: { channel: 'cursors-demo', hideAfterMs: 3000 },
  render: liveStory(2, CursorsDemo),
} satisfies Meta<CursorsDemoProps>;
export default meta;
type Story = StoryObj<typeof meta>;

/** Tab A is the first demo user, tab B the second; both boards are on the channel "cursors-demo". */
export const TwoTabs: Story = {};
