// `rtk-postgrest dev --env-file`: the VITE_* lines a Vite app reads, merged into a file the app may
// already have (its other lines kept).
import { mergeEnv } from '../../lib/server/cli/envFile';

const values = { VITE_POSTGREST_URL: 'http://127.0.0.1:3001', VITE_REALTIME_URL: 'ws://127.0.0.1:4001/realtime/v1', VITE_ANON_KEY: 'key' };

test('a new file gets the three variables', () => {
  expect(mergeEnv('', values)).toBe('VITE_POSTGREST_URL=http://127.0.0.1:3001\nVITE_REALTIME_URL=ws://127.0.0.1:4001/realtime/v1\nVITE_ANON_KEY=key\n');
});

test('an existing file keeps its other lines and order; our lines are replaced where they were', () => {
  const before = '# mine\nVITE_TITLE=App\nexport VITE_ANON_KEY=old\nVITE_POSTGREST_URL=http://old\n';
  expect(mergeEnv(before, values)).toBe('# mine\nVITE_TITLE=App\nVITE_ANON_KEY=key\nVITE_POSTGREST_URL=http://127.0.0.1:3001\nVITE_REALTIME_URL=ws://127.0.0.1:4001/realtime/v1\n');
});
