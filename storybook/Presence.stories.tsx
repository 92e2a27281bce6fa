import type { Meta, StoryObj } from '@storybook/react-vite';
import { liveStory } from './DemoStack';
import { PresenceDemo, type PresenceDemoProps } from './Presence';

/**
 * Presence and typing: two tabs (Ada and Brian) in one room. Try: type in tab A and watch tab B say
 * "… is typing…" until A stops for two seconds or sends; send a message (both tabs list it); press
 * "Leave room" in one tab and see its avatar leave the other, then "Join room" to come back.
 */
const meta = {
  title: 'Realtime/Presence and typing',
  args: { room: 'presence-demo', typingTimeoutMs: 2000 },
  render: liveStory(2, PresenceDemo),
} satisfies Meta<PresenceDemoProps>;
export default meta;
type Story = StoryObj<typeof meta>;

/** Tab A is the first demo user, tab B the second; both join the room "presence-demo". */
export const TwoTabs: Story = {};
