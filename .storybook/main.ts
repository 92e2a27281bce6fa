import type { StorybookConfig } from '@storybook/react-vite';

/** Storybook for the demos in storybook/; `npm start` starts the dev stack they talk to and this Storybook. */
const config: StorybookConfig = {
  framework: '@storybook/react-vite',
  stories: ['../storybook/**/*.stories.tsx'],
  addons: [],
  core: {
    // Dev tooling that works offline: no usage reports, no update checks.
    disableTelemetry: true,
    disableWhatsNewNotifications: true,
  },
};
export default config;
