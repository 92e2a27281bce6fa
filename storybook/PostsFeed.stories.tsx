import type { Meta, StoryObj } from '@storybook/react-vite';
import { DemoCard } from './BlogDemo';
import { withDemoStack } from './DemoStack';
import { PostsFeed } from './PostsFeed';

/** Reads: `useReadQuery(from('posts').select(...).in/eq/order/limit)` against the dev stack. */
const meta = {
  title: 'Reads/Posts feed',
  component: PostsFeed,
  decorators: [
    (Story) => (
      <DemoCard lead="Reads: one useReadQuery with an inline builder chain. Change the filter and the hook compiles another request; row level security decides which rows come back.">
        <Story />
      </DemoCard>
    ),
    withDemoStack,
  ],
} satisfies Meta<typeof PostsFeed>;
export default meta;
type Story = StoryObj<typeof meta>;

/** Anonymous: only published posts come back, whatever the filter says. */
export const Anonymous: Story = {};

/** Signed in as the first demo user: their drafts appear next to everyone's published posts. */
export const SignedIn: Story = { parameters: { signedInAs: 0 } };

/** `.eq('published', true)`: the first user's drafts are filtered out again. */
export const PublishedOnly: Story = { args: { initialFilter: 'published' }, parameters: { signedInAs: 0 } };

/** `.eq('author_id', …)` for the second user, read by the first: only the second user's published posts. */
export const ByAnotherAuthor: Story = { args: { initialFilter: { author: 1 } }, parameters: { signedInAs: 0 } };

/** Nothing listens on the URL: the hook's `error` is a FETCH_ERROR, shown as is. */
export const PostgrestUnreachable: Story = { parameters: { demoStack: { postgrestUrl: 'http://127.0.0.1:9' } } };
