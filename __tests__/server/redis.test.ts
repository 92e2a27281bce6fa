// The cluster's Redis pieces: the stack's redis-server (a real one, on a free loopback port) and the
// server's connection to it (ioredis, loaded only for the redis option).
import { startRedis } from '../../lib/server/stack/redis';
import { isStackError } from '../../lib/server/stack/errors';
import { connectRedis, readRedisOptions, redactUrl } from '../../lib/server/realtime/cluster/redis';
import { isAlive } from '../../lib/server/stack/processes';
import { closedPort } from './genTypesSupport';

test('startRedis runs redis-server on a free loopback port that answers, and stop ends the process', async () => {
  const redis = await startRedis();
  try {
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    const client = await connectRedis(readRedisOptions({ url: redis.url, nodeId: 'test' })!, 'check');
    await client.set('k', 'v');
    expect(await client.get('k')).toBe('v');
    expect(await client.client('GETNAME')).toBe('test:check');
    client.disconnect();
  } finally {
    await redis.stop();
  }
  expect(isAlive(redis.pid)).toBe(false);
});

test('a missing redis-server is a NO_BINARY StackError naming the package to install', async () => {
  const error = await startRedis({ binary: '/nonexistent/redis-server' }).catch((e: unknown) => e);
  expect(isStackError(error, 'NO_BINARY')).toBe(true);
  expect((error as Error).message).toMatch(/apt-get install redis-server/);
});

test('the redis option is validated, and an unreachable Redis fails with its address (password hidden)', async () => {
  expect(() => readRedisOptions('redis://x')).toThrow(/redis must be \{ url/);
  expect(() => readRedisOptions({ url: 'http://x' })).toThrow(/redis:\/\/ or rediss:\/\/ URL/);
  expect(() => readRedisOptions({ url: 'redis://x', nodeId: '' })).toThrow(/nodeId must be a non-empty string/);
  expect(() => readRedisOptions({ url: 'redis://x', heartbeatMs: 0 })).toThrow(/heartbeatMs must be a positive integer/);
  expect(() => readRedisOptions({ url: 'redis://x', heartbeatMs: 500, nodeTimeoutMs: 500 })).toThrow(/nodeTimeoutMs must be an integer larger than redis.heartbeatMs/);
  expect(readRedisOptions({ url: 'redis://x' })).toMatchObject({ keyPrefix: 'rtk-realtime:', nodeId: expect.stringMatching(/^node-/), heartbeatMs: 1000, nodeTimeoutMs: 10_000 });
  expect(redactUrl('redis://user:secret@host:1/0')).toBe('redis://user:***@host:1/0');
  const port = await closedPort();
  await expect(connectRedis(readRedisOptions({ url: `redis://:pw@127.0.0.1:${port}` })!, 'x')).rejects.toThrow(new RegExp(`cannot reach Redis at redis://:\\*\\*\\*@127.0.0.1:${port}`));
});
