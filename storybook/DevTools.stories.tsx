import type { Meta, StoryObj } from '@storybook/react-vite';
import { liveStory } from './DemoStack';
import { TimeTravelDemo } from './TimeTravel';

/**
 * Every step is an action: the sync middleware's row changes, optimistic layers and outbox moves
 * are plain actions in the store, so a DevTools log shows them and time travel replays the UI from
 * them without touching the network.
 */
const meta: Meta = {
  title: 'DevTools/Time travel',
};
export default meta;
type Story = StoryObj;

/** Publish a few posts, then drag the slider: the feed goes back and forth; the request counter stays still. */
export const ActionLogAndSlider: Story = {
  render: liveStory(1, TimeTravelDemo),
};
