import { NewPostForm } from './NewPostForm';
import { PostsFeed, type FeedChoice } from './PostsFeed';
import { WhoAmI } from './WhoAmI';

/** The whole demo: identity switcher, new-post form and feed sharing one store. */
export function BlogDemo({ initialFilter }: { initialFilter?: FeedChoice }) {
  return (
    <div style={{ maxWidth: 720 }}>
      <WhoAmI />
      <NewPostForm />
      <PostsFeed initialFilter={initialFilter} />
    </div>
  );
}
