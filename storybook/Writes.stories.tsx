import type { Meta, StoryObj } from '@storybook/react-vite';
import { withDemoStack } from './DemoStack';
import { NewPostForm } from './NewPostForm';
import { PostsFeed } from './PostsFeed';

/**
 * Writes: `useWriteMutation()` inserts, renames and deletes; the feed refreshes on its own through
 * the writes' automatic tags. Failed writes show PostgREST's error object.
 */
function FormAndFeed() {
  return (
    <div style={{ maxWidth: 720 }}>
      <NewPostForm />
      <PostsFeed />
    </div>
  );
}

const meta = {
  title: 'Writes/New post, rename, delete',
  component: FormAndFeed,
  decorators: [withDemoStack],
} satisfies Meta<typeof FormAndFeed>;
export default meta;
type Story = StoryObj<typeof meta>;

/** Add, rename or delete your own posts; try an empty title, or renaming someone else's post. */
export const SignedIn: Story = { parameters: { signedInAs: 0 } };

/** Every write fails: row level security has no policy letting `anon` insert, update or delete. */
export const Anonymous: Story = {};
