/**
 * createSyncMiddleware and the api's live-endpoint marks refuse bad options with an error naming the
 * problem, at construction (not at the first change).
 */
import { createPostgrestApi } from '../../lib/api';
import { liveEndpointsOf, markLiveEndpoints } from '../../lib/api/liveContract';
import { from } from '../../lib/postgrest';
import { createSyncMiddleware } from '../../lib/sync';

const makeApi = () =>
  createPostgrestApi({
    url: 'http://localhost:1',
    endpoints: (build) => ({
      notes: build.query<unknown, string>({ query: (room) => from('notes').select('*').eq('room', room) }),
      liveNotes: build.liveQuery<unknown, string>({ query: (room) => from('notes').select('*').eq('room', room) }),
      addNote: build.mutation<unknown, string>({ query: (body) => from('notes').insert({ body }) }),
    }),
  });

describe('createSyncMiddleware options', () => {
  it.each([
    [{ url: 'localhost:4000' }, 'createSyncMiddleware: url must be a ws:// or wss:// URL (the realtime endpoint), got "localhost:4000"'],
    [{ url: 'ws://x', apiKey: 1 }, 'createSyncMiddleware: apiKey must be a string'],
    [{ url: 'ws://x', getToken: 'token' }, 'createSyncMiddleware: getToken must be a function'],
    [{ url: 'ws://x', WebSocket: {} }, 'createSyncMiddleware: WebSocket must be a constructor'],
    [{ url: 'ws://x', liveEndpoints: ['notes'] }, 'createSyncMiddleware: liveEndpoints needs the api option'],
    [{ url: 'ws://x', database: { textOrder: 'icu' } }, "createSyncMiddleware: database: textOrder must be 'codepoint' or 'unknown', got a string (\"icu\")"],
    [{ url: 'ws://x', database: { collation: 'C' } }, 'createSyncMiddleware: database: unknown option "collation"; expected textOrder, timeZone'],
  ])('%j is refused', (options, message) => {
    expect(() => createSyncMiddleware(options as never)).toThrow(new TypeError(message));
  });

  it('refuses live endpoints the api does not have', () => {
    expect(() => createSyncMiddleware({ url: 'ws://x', api: makeApi(), liveEndpoints: ['nope'] })).toThrow(
      new TypeError('createSyncMiddleware: liveEndpoints: "nope" is not an endpoint of the api'),
    );
  });

  it('accepts what the database is known to do', () => {
    expect(createSyncMiddleware({ url: 'ws://x', database: { textOrder: 'codepoint', timeZone: 'UTC' } }).reducerPath).toBe('sync');
  });
});

describe('live endpoints of an api', () => {
  it('are `live`, the query client `keyedLive` and the endpoints declared with build.liveQuery, plus those marked later', () => {
    const api = makeApi();
    expect([...liveEndpointsOf(api)].sort()).toEqual(['keyedLive', 'live', 'liveNotes']);
    createSyncMiddleware({ url: 'ws://x', api, liveEndpoints: ['notes'] });
    expect([...liveEndpointsOf(api)].sort()).toEqual(['keyedLive', 'live', 'liveNotes', 'notes']);
    expect([...liveEndpointsOf(makeApi())].sort()).toEqual(['keyedLive', 'live', 'liveNotes']); // per api
  });

  it.each(['read', 'write', 'nope'])('refuses to mark %s', (name) => {
    expect(() => markLiveEndpoints(makeApi(), [name])).toThrow(new TypeError(`markLiveEndpoints: ${JSON.stringify(name)} is not a declared query endpoint of the api`));
  });

  it('refuses an object that is not such an api', () => {
    expect(() => markLiveEndpoints({ endpoints: {} }, ['x'])).toThrow(new TypeError('markLiveEndpoints: not an api made by createPostgrestApi'));
  });
});
