import type { Meta, StoryObj } from '@storybook/react-vite';
import { liveStory } from './DemoStack';
import { ConflictTabs, OptimisticFeed } from './Optimistic';

/**
 * Optimistic writes: `.optimistic()` shows a write in the cache before it is sent, as a layer over
 * server state; a refused write rolls back alone; a version column turns concurrent edits into
 * conflicts settled by a strategy or by the user.
 */
/** The document the conflict story edits (demo/schema.sql seeds id 1). */
interface StoryArgs {
  docId: number;
}

const meta: Meta<StoryArgs> = {
  title: 'Sync/Optimistic writes',
  args: { docId: 1 },
};
export default meta;
type Story = StoryObj<StoryArgs>;

/** Publish: the post is in the feed at once ("saving…" until the server's row replaces it). The empty title fails: it rolls back and shows the error. */
export const InsertWithFailure: Story = {
  render: liveStory(1, OptimisticFeed),
};

/** Tab A edits the title, tab B the body, both from version 1: "Save (merge)" keeps both; "Save (ask me)" asks: Keep mine or Take theirs. */
export const TwoTabsConflict: Story = {
  render: liveStory(2, ConflictTabs),
};
