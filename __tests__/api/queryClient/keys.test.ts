import { hashKey, matchQuery, partialMatchKey, toFilters, type MatchableQuery, type QueryKey } from '../../../lib/api/queryClient/keys';

function query(queryKey: QueryKey, { active = true, stale = false, fetching = false } = {}): MatchableQuery {
  return { queryKey, queryHash: hashKey(queryKey), isActive: () => active, isStale: () => stale, state: { fetchStatus: fetching ? 'fetching' : 'idle' } };
}

test('hashKey ignores the order of object keys but not of array items', () => {
  expect(hashKey(['posts', { b: 2, a: 1 }])).toBe(hashKey(['posts', { a: 1, b: 2 }]));
  expect(hashKey(['posts', { a: { d: 1, c: 2 } }])).toBe(hashKey(['posts', { a: { c: 2, d: 1 } }]));
  expect(hashKey(['a', 'b'])).not.toBe(hashKey(['b', 'a']));
  expect(hashKey(['post', 1])).not.toBe(hashKey(['post', '1']));
  // As TanStack (JSON): undefined in an array hashes like null.
  expect(hashKey(['post', undefined])).toBe(hashKey(['post', null]));
});

test.each<[unknown, unknown, boolean]>([
  [['posts'], ['posts'], true],
  [['posts', 1], ['posts'], true],
  [['posts'], ['posts', 1], false],
  [['post', 1], ['post', 2], false],
  [['posts', { author: 'ann', page: 2 }], ['posts', { author: 'ann' }], true],
  [['posts', { author: 'ann' }], ['posts', { author: 'bob' }], false],
  [['posts', { author: 'ann' }], ['posts', { author: 'ann', page: 1 }], false],
  [['user-posts', 'u1'], ['user-posts'], true],
  [['post', 1], [], true],
  [['post', 1], ['post', undefined], false],
])('partialMatchKey(%j, %j) is %s', (key, filter, expected) => {
  expect(partialMatchKey(key, filter)).toBe(expected);
});

test('matchQuery: exact, type, stale, fetchStatus and predicate all narrow', () => {
  const posts = query(['posts']);
  const post = query(['posts', 1], { active: false, stale: true, fetching: true });
  expect(matchQuery({ queryKey: ['posts'] }, post)).toBe(true);
  expect(matchQuery({ queryKey: ['posts'], exact: true }, post)).toBe(false);
  expect(matchQuery({ queryKey: ['posts'], exact: true }, posts)).toBe(true);
  expect(matchQuery({ type: 'active' }, post)).toBe(false);
  expect(matchQuery({ type: 'inactive' }, post)).toBe(true);
  expect(matchQuery({ stale: false }, post)).toBe(false);
  expect(matchQuery({ stale: true }, post)).toBe(true);
  expect(matchQuery({ fetchStatus: 'idle' }, post)).toBe(false);
  expect(matchQuery({ predicate: (q) => q.queryKey[1] === 1 }, post)).toBe(true);
  expect(matchQuery({ predicate: (q) => q.queryKey[1] === 2 }, post)).toBe(false);
  expect(matchQuery({}, post)).toBe(true);
});

test('toFilters takes a bare key (v4, the guide) or v5 filters, and names a bad one', () => {
  expect(toFilters(['posts'])).toEqual({ queryKey: ['posts'] });
  expect(toFilters({ queryKey: ['posts'], exact: true })).toEqual({ queryKey: ['posts'], exact: true });
  expect(() => toFilters('posts' as never)).toThrow(/query key \(an array\)/);
  expect(() => toFilters({ queryKey: 'posts' } as never)).toThrow(/queryKey must be an array/);
});
