import { useState } from 'react';
import type { DemoConfig } from './demoConfig';
import { TabFrame } from './DemoTab';
import { DevToolsPanel } from './DevToolsPanel';
import { FilteredLiveFeed, PublishForm } from './LiveFeed';
import { createTimeTravel } from './timeTravel';
import { useTabStore } from './useTabStore';

/**
 * A tab and an in-page Redux DevTools for its store: publish a few posts, then drag the slider. The
 * feed, the status and the pending marks all go back and forth with the store, while the request
 * counters stay where they are: a past state is only shown, never fetched again.
 */
export function TimeTravelDemo({ config, fetchFn }: { config: DemoConfig; fetchFn?: typeof fetch }) {
  const [timeTravel] = useState(() => createTimeTravel());
  const tab = useTabStore(config, 0, fetchFn, timeTravel);
  return (
    <>
      <p className="demo-lead">
        Every step is an action in the store: publish a post or two, then drag the slider or click an action. The tab shows the store as it was, pending marks and all; the request counters stay still, because a past state is only shown, never fetched again.
      </p>
      <div className="tabs">
        <TabFrame label="Tab A" tab={tab} store={timeTravel.view(tab.store)}>
          <PublishForm optimistic />
          <FilteredLiveFeed />
        </TabFrame>
        <DevToolsPanel timeTravel={timeTravel} network={tab.network} label={`DevTools: ${tab.user.name}'s store`} />
      </div>
    </>
  );
}
