import type { Meta, StoryObj } from '@storybook/react-vite';
import { DemoCard } from './BlogDemo';
import { withDemoStack } from './DemoStack';
import { NewPostForm } from './NewPostForm';
import { PostsFeed } from './PostsFeed';

/**
 * Writes: `useWriteMutation()` inserts, renames and deletes; the feed refreshes on its own through
 * the writes' automatic tags. Rename and Delete are offered on your own posts only (what row level
 * security allows); a write the database refuses anyway is explained, with PostgREST's error object.
 */
function FormAndFeed() {
  return (
    <DemoCard lead="Writes with useWriteMutation(): add a post, rename or delete your own. The feed refreshes through the writes' automatic tags, with no cache code. A refused write is explained in words, with PostgREST's error object underneath.">
      <NewPostForm />
      <PostsFeed />
    </DemoCard>
  );
}

const meta = {
  title: 'Writes/New post, rename, delete',
  component: FormAndFeed,
  decorators: [withDemoStack],
} satisfies Meta<typeof FormAndFeed>;
export default meta;
type Story = StoryObj<typeof meta>;

/** Add, rename or delete your own posts (others' posts offer neither); try an empty title. */
export const SignedIn: Story = { parameters: { signedInAs: 0 } };

/** No Rename or Delete: row level security lets `anon` change nothing. The form stays, with a note, so the refused insert can be seen. */
export const Anonymous: Story = {};
