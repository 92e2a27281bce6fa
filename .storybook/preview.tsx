/// <reference types="vite/client" />
import type { Preview } from '@storybook/react-vite';
import { demoConfigFromEnv } from '../storybook/demoConfig';

/**
 * Every story gets the dev stack's URL and browser-safe keys from the STORYBOOK_* variables that
 * scripts/storybook.ts sets (withDemoStack reads `parameters.demoStack`). Without them the stories
 * explain how to start the stack instead of failing.
 */
const preview: Preview = {
  parameters: {
    demoStack: demoConfigFromEnv(import.meta.env),
    layout: 'padded',
  },
};
export default preview;
