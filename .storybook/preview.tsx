/// <reference types="vite/client" />
import type { Preview } from '@storybook/react-vite';
import { demoConfigFromEnv, demoConfigFromPage } from '../storybook/demoConfig';
import '../storybook/demo.css';

/**
 * Every story gets the dev stack's URL and browser-safe keys from the STORYBOOK_* variables that
 * scripts/storybook.ts sets (withDemoStack reads `parameters.demoStack`), or, in a built Storybook,
 * from the config its server put on the page. Without either the stories explain how to start the
 * stack instead of failing.
 */
const preview: Preview = {
  parameters: {
    demoStack: demoConfigFromEnv(import.meta.env) ?? demoConfigFromPage(globalThis as unknown as Record<string, unknown>),
    layout: 'padded',
  },
  decorators: [(Story) => <div className="demo"><Story /></div>],
};
export default preview;
