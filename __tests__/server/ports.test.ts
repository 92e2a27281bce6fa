// The dev stack's ports: free ones, never one a browser refuses to connect to (a page could not
// reach PostgREST or the realtime server there).
import { jest } from '@jest/globals';
import net from 'node:net';
import { BROWSER_RESTRICTED_PORTS, findFreePort, isBrowserRestrictedPort } from '../../lib/server/stack/ports';

test('the restricted list holds the ports Chromium and Firefox refuse (a sample), and not the usual dev ports', () => {
  for (const port of [21, 22, 25, 6000, 6665, 6697, 10080, 5060, 4045, 2049]) expect(isBrowserRestrictedPort(port)).toBe(true);
  for (const port of [3000, 4000, 5173, 5432, 6006, 6379, 8080]) expect(isBrowserRestrictedPort(port)).toBe(false);
  expect(BROWSER_RESTRICTED_PORTS.size).toBeGreaterThan(70);
});

test('findFreePort skips a port browsers refuse when the kernel hands one out', async () => {
  // Make the kernel's first answer a restricted port: listen() reports 6000 once, then real ports.
  const original = net.Server.prototype.address;
  let calls = 0;
  const spy = jest.spyOn(net.Server.prototype, 'address').mockImplementation(function (this: net.Server) {
    const real = original.call(this) as net.AddressInfo;
    return ++calls === 1 ? { ...real, port: 6000 } : real;
  });
  try {
    const port = await findFreePort();
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(port).not.toBe(6000);
    expect(isBrowserRestrictedPort(port)).toBe(false);
  } finally {
    spy.mockRestore();
  }
});
