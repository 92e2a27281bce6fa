import type { ReactNode } from 'react';
import { NewPostForm } from './NewPostForm';
import { PostsFeed, type FeedChoice } from './PostsFeed';
import { WhoAmI } from './WhoAmI';

/** The whole demo: identity switcher, new-post form and feed sharing one store. */
export function BlogDemo({ initialFilter }: { initialFilter?: FeedChoice }) {
  return (
    <DemoCard lead="Row level security in action: switch identity and the same query returns other rows. The cache is reset on every switch, so nothing read with the previous token stays on screen.">
      <WhoAmI />
      <NewPostForm />
      <PostsFeed initialFilter={initialFilter} />
    </DemoCard>
  );
}

/** One card around a single-client demo, with a lead line saying what it shows. */
export function DemoCard({ lead, children }: { lead?: string; children: ReactNode }) {
  return (
    <>
      {lead && <p className="demo-lead">{lead}</p>}
      <div className="tab card">{children}</div>
    </>
  );
}
