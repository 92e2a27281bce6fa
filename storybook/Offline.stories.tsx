import type { Meta, StoryObj } from '@storybook/react-vite';
import type { ComponentType } from 'react';
import { liveConfigProblem, type DemoConfig } from './demoConfig';
import { MissingStack } from './DemoStack';
import { OfflineOutbox, RealtimeDownTabs } from './Offline';

/**
 * Offline: the outbox keeps writes made without a network and sends them in order when it is back;
 * a realtime server that can't be reached makes a tab `degraded`, and its live entries are polled.
 * Outbox: switch Tab A offline, publish a few posts, watch them wait, switch it back online.
 * Realtime down: cut Tab A's realtime connection, publish in Tab B, watch A poll, restore it.
 */
const meta: Meta = {
  title: 'Offline',
};
export default meta;
type Story = StoryObj;

/** A two-tab demo with the stack's config and the test's fetch from parameters, or what is missing. */
function twoTabs(Demo: ComponentType<{ config: DemoConfig; fetchFn?: typeof fetch }>): Story['render'] {
  return (_args, { parameters }) => {
    const config = parameters.demoStack as DemoConfig | undefined;
    const problem = liveConfigProblem(config, 2);
    return problem ? <MissingStack problem={problem} /> : <Demo config={config!} fetchFn={parameters.fetchFn as typeof fetch | undefined} />;
  };
}

/** Tab A offline: posts show at once and queue in its outbox; back online they are sent in order and reach Tab B in that order. */
export const Outbox: Story = { render: twoTabs(OfflineOutbox) };

/** Tab A's realtime server unreachable: `degraded` after 2 s, its feed polled (a post from Tab B still arrives); switched back: `synced`, no more polling. */
export const RealtimeDown: Story = { render: twoTabs(RealtimeDownTabs) };
