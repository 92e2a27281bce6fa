import type { Meta, StoryObj } from '@storybook/react-vite';
import { BlogDemo } from './BlogDemo';
import { withDemoStack } from './DemoStack';

/** Row level security in action: switch identity and watch the same query return other rows. */
const meta = {
  title: 'Auth/Who am I',
  component: BlogDemo,
  decorators: [withDemoStack],
} satisfies Meta<typeof BlogDemo>;
export default meta;
type Story = StoryObj<typeof meta>;

export const Anonymous: Story = {};
export const FirstUser: Story = { parameters: { signedInAs: 0 } };
export const SecondUser: Story = { parameters: { signedInAs: 1 } };
