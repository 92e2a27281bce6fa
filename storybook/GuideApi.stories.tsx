import type { Meta, StoryObj } from '@storybook/react-vite';
import { liveStory } from './DemoStack';
import { GuideApi } from './GuideApi';

/**
 * The guide's `useQuery` / `useMutation` / `useQueryClient` next to RTK Query's hooks, on one store.
 * Try: publish a post on the left and watch it appear on the right (and the other way round); press
 * "Invalidate ['posts']" (only the keyed entry refetches) and "Invalidate every entry" (RTK's entry
 * too); watch the cache table's Fetched column.
 */
interface StoryArgs {
  live: boolean;
}

const meta: Meta<StoryArgs> = {
  title: 'Guide API/useQuery next to RTK hooks',
  args: { live: false },
  render: liveStory(1, GuideApi),
};
export default meta;
type Story = StoryObj<StoryArgs>;

/** `useQuery(['posts', authorIds], fn)` and `api.useReadQuery(request)`: two entries, both refetched by a write's tags. */
export const Reads: Story = {};

/** `useQuery(key, fn, { live: true })` and `api.useLiveQuery(request)`: both fetched once, then patched from row changes. */
export const LiveQueries: Story = { args: { live: true } };
