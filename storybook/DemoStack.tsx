import { createContext, useContext, useState, type ComponentType, type ReactElement, type ReactNode } from 'react';
import { Provider, useSelector } from 'react-redux';
import type { Decorator } from '@storybook/react-vite';
import { configProblem, liveConfigProblem, type DemoConfig, type DemoUser } from './demoConfig';
import { createDemoStore, type DemoState, type DemoStore } from './demoStore';

const DemoContext = createContext<DemoStore | null>(null);

export interface DemoStackProviderProps {
  config: DemoConfig;
  /** Index into `config.users` to start signed in as; anonymous when unset. */
  signedInAs?: number;
  children: ReactNode;
}

/** One store and api per mounted demo, talking to the configured PostgREST. */
export function DemoStackProvider({ config, signedInAs, children }: DemoStackProviderProps) {
  const [demo] = useState(() => createDemoStore(config, signedInAs === undefined ? null : config.users[signedInAs]?.id ?? null));
  return (
    <Provider store={demo.store}>
      <DemoContext.Provider value={demo}>{children}</DemoContext.Provider>
    </Provider>
  );
}

/** The demo's api, users and identity switch; only inside DemoStackProvider. */
export function useDemo(): DemoStore {
  const demo = useContext(DemoContext);
  if (!demo) throw new Error('useDemo: render the demo components inside <DemoStackProvider> (stories get it from withDemoStack)');
  return demo;
}

/** The user the demo currently acts as, or undefined when anonymous. */
export function useCurrentUser(): DemoUser | undefined {
  const { config } = useDemo();
  const userId = useSelector((state: DemoState) => state.session.userId);
  return config.users.find((user) => user.id === userId);
}

/** Shown instead of a demo when Storybook was started without a PostgREST to talk to. */
export function MissingStack({ problem }: { problem: string }) {
  return (
    <div role="alert" style={{ fontFamily: 'sans-serif', maxWidth: 560 }}>
      <h3>This demo needs a running PostgREST</h3>
      <p>Start the demos with <code>npm start</code>: it starts PostgreSQL, PostgREST and the realtime server with demo/schema.sql and passes their URLs and keys to the stories.</p>
      <p>(Problem: {problem}.)</p>
    </div>
  );
}

/**
 * Wraps a story in a DemoStackProvider built from `parameters.demoStack` (a DemoConfig, set by
 * .storybook/preview.tsx or by tests) and `parameters.signedInAs`.
 */
export const withDemoStack: Decorator = (Story, context) => {
  const config = context.parameters.demoStack as DemoConfig | undefined;
  const problem = configProblem(config);
  if (problem) return <MissingStack problem={problem} />;
  const signedInAs = context.parameters.signedInAs as number | undefined;
  // A new store per story: stories never share a cache or an identity.
  return (
    <DemoStackProvider key={context.id} config={config!} signedInAs={signedInAs}>
      <Story />
    </DemoStackProvider>
  );
};

/** What a demo of live clients gets from its story. */
export interface LiveDemoProps {
  config: DemoConfig;
  /** Every PostgREST request of its clients goes through it (tests pass a recording fetch). */
  fetchFn?: typeof fetch;
}

/**
 * A story's `render` for a demo of live clients: `Demo` gets the config and `fetchFn` from the
 * story's parameters, then the story's args; when the config lacks the realtime server or `users`
 * demo users, the story says what is missing and how to start the stack instead.
 */
export function liveStory<P extends LiveDemoProps>(users: number, Demo: ComponentType<P>) {
  return (args: Omit<P, keyof LiveDemoProps> & Partial<LiveDemoProps>, { parameters }: { parameters: Record<string, unknown> }): ReactElement => {
    const config = parameters.demoStack as DemoConfig | undefined;
    const problem = liveConfigProblem(config, users);
    if (problem) return <MissingStack problem={problem} />;
    const props = { config: config!, fetchFn: parameters.fetchFn as typeof fetch | undefined, ...args } as unknown as P;
    return <Demo {...props} />;
  };
}
