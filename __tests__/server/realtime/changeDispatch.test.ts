/**
 * The postgres_changes dispatcher with a fake visibility checker and fake sockets: one check per
 * (table, batch) for all subscriber groups and row images, one message per channel per change
 * carrying every matching binding id, stream order, column stripping per role, DELETE old rows
 * as far as the subscriber could see them, LEAVE, and resync for undecided rows.
 */
import type { KeyedTable, RowText, SubscriberGroup, TableRef, VisibilityChecker } from '../../../lib/server/realtime/authorization/index.js';
import { createChangeDispatcher } from '../../../lib/server/realtime/changes/dispatch.js';
import { createSubscriptionRegistry, type Subscription } from '../../../lib/server/realtime/changes/subscriptions.js';
import { parseJoinConfig } from '../../../lib/server/realtime/channels/joinConfig.js';
import type { ChangeEvent } from '../../../lib/server/realtime/replication/index.js';
import { formatPosition } from '../../../lib/server/realtime/replication/resumeLog.js';
import type { JoinedChannel } from '../../../lib/server/realtime/channels/rooms.js';

interface Sent {
  topic: string;
  payload: { ids: number[]; data: Record<string, unknown>; position: string };
}

const COLUMNS = [
  { name: 'id', type: 'int4' },
  { name: 'name', type: 'text' },
  { name: 'secret', type: 'text' },
];

let seq = 0;
function change(type: ChangeEvent['type'], id: number, table = 'items'): ChangeEvent {
  const row = { id, name: `n${id}`, secret: `s${id}` };
  const text = { id: String(id), name: `n${id}`, secret: `s${id}` };
  const event: ChangeEvent = {
    position: formatPosition(100n, seq++),
    commitTimestamp: '2026-11-24T10:00:00.000Z',
    schema: 'public',
    table,
    type,
    columns: COLUMNS,
    primaryKey: ['id'],
    errors: null,
  };
  if (type !== 'DELETE') Object.assign(event, { record: row, recordText: text });
  if (type !== 'INSERT') Object.assign(event, { oldRecord: type === 'DELETE' ? row : { id }, oldRecordText: type === 'DELETE' ? text : { id: String(id) } });
  return event;
}

function channel(name: string, claims: Record<string, unknown>, sent: Sent[], config: Record<string, unknown> = {}): JoinedChannel {
  const parsed = parseJoinConfig({ config });
  if (!parsed.ok) throw new Error(parsed.message);
  return {
    peer: {
      id: name,
      vsn: '1.0.0',
      send: () => undefined,
      sendFrame: (frame) => {
        const { topic, payload } = JSON.parse(String(frame)) as Sent; // vsn 1.0.0: a JSON object
        sent.push({ topic, payload });
      },
    },
    topic: `realtime:${name}`,
    joinRef: '1',
    room: `public|realtime:${name}`,
    config: parsed.config,
    claims,
  };
}

function sub(on: JoinedChannel, id: number, extra: Partial<Subscription> = {}): Subscription {
  return { channel: on, id, event: null, schema: 'public', table: 'items', matches: null, keyOnlyFilter: true, sql: null, select: null, ...extra };
}

/**
 * Sees rows with an even id for role anon, every row for others; anon can't read `secret`. Rows
 * whose `name` is missing are undecided (as when a policy reads a value the change lacks).
 */
function fakeChecker() {
  const calls: Array<{ table: KeyedTable; groups: readonly SubscriberGroup[]; rows: readonly RowText[] }> = [];
  let release: (() => void) | undefined;
  let held: Promise<void> = Promise.resolve();
  const checker: VisibilityChecker = {
    async checkVisible(table, groups, rows) {
      calls.push({ table, groups, rows });
      await held;
      const result = new Map<string, ReadonlySet<number>>();
      for (const group of groups) {
        const visible = new Set<number>();
        rows.forEach((row, index) => {
          if (group.role !== 'anon' || Number(row.id) % 2 === 0) visible.add(index);
        });
        result.set(group.groupKey, visible);
      }
      return result;
    },
    async visibleColumns(_table: TableRef, role: string) {
      return role === 'anon' ? ['id', 'name'] : ['id', 'name', 'secret'];
    },
    async isRlsEnabled() {
      return true;
    },
    async checkBatch(table, groups, rows, roles) {
      const visible = groups.length > 0 && rows.length > 0 ? await checker.checkVisible(table, groups, rows) : new Map<string, ReadonlySet<number>>();
      const undecided = new Map<string, ReadonlySet<number>>();
      const missing = new Set([...rows.keys()].filter((index) => rows[index]!.name === undefined));
      for (const group of groups) {
        if (group.role !== 'anon' || missing.size === 0) continue;
        undecided.set(group.groupKey, missing);
        visible.set(group.groupKey, new Set([...visible.get(group.groupKey)!].filter((index) => !missing.has(index))));
      }
      const columns = new Map(await Promise.all(roles.map(async (role) => [role, await checker.visibleColumns(table, role)] as const)));
      return { visible, undecided, columns, rlsEnabled: true };
    },
    invalidate() {},
  };
  return {
    checker,
    calls,
    hold() {
      held = new Promise((resolve) => (release = resolve));
    },
    release: () => release?.(),
  };
}

describe('createChangeDispatcher', () => {
  it('checks each table once per batch for all distinct subscriber groups and all rows', async () => {
    const fake = fakeChecker();
    const registry = createSubscriptionRegistry();
    const sent: Sent[] = [];
    const anonClaims = { role: 'anon' };
    const [a, b, c] = [channel('a', anonClaims, sent), channel('b', { role: 'anon' }, sent), channel('c', { role: 'authenticated', sub: 'u' }, sent)];
    for (const [index, ch] of [a, b, c].entries()) registry.set(ch, [sub(ch, index + 1)]);
    const dispatcher = createChangeDispatcher({ registry, checker: fake.checker });
    dispatcher.enqueue([change('INSERT', 1), change('INSERT', 2), change('UPDATE', 3)]);
    await dispatcher.idle();
    expect(fake.calls).toHaveLength(1);
    expect(fake.calls[0]!.groups.map((group) => group.role).sort()).toEqual(['anon', 'authenticated']);
    // The new row of each change (the UPDATE's old row is only its key: nothing to judge).
    expect(fake.calls[0]!.rows).toEqual([1, 2, 3].map((id) => ({ id: String(id), name: `n${id}`, secret: `s${id}` })));
    const ids = (topic: string) => sent.filter((message) => message.topic === topic).map((message) => message.payload.data.record);
    expect(ids('realtime:a')).toEqual([{ id: 2, name: 'n2' }]);
    expect(ids('realtime:b')).toEqual([{ id: 2, name: 'n2' }]);
    expect(ids('realtime:c')).toEqual([1, 2, 3].map((id) => ({ id, name: `n${id}`, secret: `s${id}` })));
    const anonColumns = sent.find((message) => message.topic === 'realtime:a')!.payload.data.columns;
    expect(anonColumns).toEqual(COLUMNS.slice(0, 2));
  });

  it('sends one message per channel per change, with every matching binding id, in stream order', async () => {
    const fake = fakeChecker();
    const registry = createSubscriptionRegistry();
    const sent: Sent[] = [];
    const ch = channel('one', { role: 'authenticated' }, sent);
    registry.set(ch, [
      sub(ch, 10),
      sub(ch, 11, { event: 'INSERT' }),
      sub(ch, 12, { matches: (row) => row.id === '2' }),
      sub(ch, 13, { table: null }),
      sub(ch, 14, { table: 'other' }),
    ]);
    const dispatcher = createChangeDispatcher({ registry, checker: fake.checker });
    const events = [change('INSERT', 1), change('UPDATE', 2), change('DELETE', 2)];
    dispatcher.enqueue(events.slice(0, 2));
    dispatcher.enqueue(events.slice(2));
    await dispatcher.idle();
    expect(sent.map((message) => [message.payload.data.type, [...message.payload.ids].sort()])).toEqual([
      ['INSERT', [10, 11, 13]],
      ['UPDATE', [10, 12, 13]],
      ['DELETE', [10, 12, 13]],
    ]);
    expect(sent.map((message) => message.payload.position)).toEqual(events.map((event) => event.position));
  });

  it('delivers every DELETE, with the old row only when the subscriber could see it, else its key', async () => {
    const fake = fakeChecker();
    const registry = createSubscriptionRegistry();
    const sent: Sent[] = [];
    const ch = channel('del', { role: 'anon' }, sent);
    registry.set(ch, [sub(ch, 1)]);
    const dispatcher = createChangeDispatcher({ registry, checker: fake.checker });
    dispatcher.enqueue([change('DELETE', 3), change('DELETE', 4)]);
    await dispatcher.idle();
    expect(fake.calls).toHaveLength(1); // the old rows are whole (REPLICA IDENTITY FULL): judged
    expect(sent.map((message) => message.payload.data)).toEqual([
      { schema: 'public', table: 'items', commit_timestamp: '2026-11-24T10:00:00.000Z', type: 'DELETE', columns: COLUMNS.slice(0, 2), old_record: { id: 3 }, errors: null },
      { schema: 'public', table: 'items', commit_timestamp: '2026-11-24T10:00:00.000Z', type: 'DELETE', columns: COLUMNS.slice(0, 2), old_record: { id: 4, name: 'n4' }, errors: null },
    ]);
  });

  it('matches a DELETE filter on other columns than the key only against an old row the subscriber could see', async () => {
    const fake = fakeChecker();
    const registry = createSubscriptionRegistry();
    const sent: Sent[] = [];
    const ch = channel('guess', { role: 'anon' }, sent);
    const byName = (row: Record<string, string | null | undefined>) => row.name !== undefined && row.name !== null && row.name.startsWith('n');
    registry.set(ch, [sub(ch, 1, { event: 'DELETE', matches: byName, keyOnlyFilter: false }), sub(ch, 2, { event: 'DELETE', matches: (row) => row.id !== undefined })]);
    const dispatcher = createChangeDispatcher({ registry, checker: fake.checker });
    dispatcher.enqueue([change('DELETE', 3), change('DELETE', 4)]);
    await dispatcher.idle();
    // Row 3 is hidden from anon: only the key-only binding hears it.
    expect(sent.map((message) => [message.payload.data.old_record, message.payload.ids])).toEqual([
      [{ id: 3 }, [2]],
      [{ id: 4, name: 'n4' }, [1, 2]],
    ]);
  });

  it('sends LEAVE (the key only) to channels that asked for it when an UPDATE hides the row, and nothing to the others', async () => {
    const fake = fakeChecker();
    const registry = createSubscriptionRegistry();
    const sent: Sent[] = [];
    const asking = channel('leaves', { role: 'anon' }, sent, { leave_events: true });
    const stock = channel('stock', { role: 'anon' }, sent);
    const updatesOnly = channel('inserts', { role: 'anon' }, sent, { leave_events: true });
    registry.set(asking, [sub(asking, 1)]);
    registry.set(stock, [sub(stock, 2)]);
    registry.set(updatesOnly, [sub(updatesOnly, 3, { event: 'INSERT' })]);
    const dispatcher = createChangeDispatcher({ registry, checker: fake.checker });
    dispatcher.enqueue([change('UPDATE', 5), change('UPDATE', 6)]);
    await dispatcher.idle();
    expect(sent.map((message) => [message.topic, message.payload.data.type, message.payload.ids, message.payload.data.old_record, message.payload.data.record])).toEqual([
      ['realtime:leaves', 'LEAVE', [1], { id: 5 }, undefined],
      ['realtime:leaves', 'UPDATE', [1], { id: 6 }, { id: 6, name: 'n6' }],
      ['realtime:stock', 'UPDATE', [2], { id: 6 }, { id: 6, name: 'n6' }],
    ]);
    expect(sent[0]!.payload.data.columns).toEqual([{ name: 'id', type: 'int4' }]);
  });

  it('sends no row it could not decide on, and tells the channel to resync after the batch', async () => {
    const fake = fakeChecker();
    const registry = createSubscriptionRegistry();
    const sent: Sent[] = [];
    const missed: Array<[string, string]> = [];
    const ch = channel('undecided', { role: 'anon' }, sent);
    registry.set(ch, [sub(ch, 1)]);
    const dispatcher = createChangeDispatcher({ registry, checker: fake.checker, onMissed: (on, _position, reason) => missed.push([on.topic, reason]) });
    const lacking = change('UPDATE', 8);
    delete (lacking.recordText as Record<string, unknown>).name; // an unchanged TOASTed value
    dispatcher.enqueue([change('INSERT', 2), lacking, change('INSERT', 4)]);
    await dispatcher.idle();
    expect(sent.map((message) => message.payload.data.record)).toEqual([{ id: 2, name: 'n2' }, { id: 4, name: 'n4' }]);
    expect(missed).toEqual([['realtime:undecided', 'visibility_unknown']]);
  });

  it('sends nothing to a channel that left while its batch was being checked', async () => {
    const fake = fakeChecker();
    const registry = createSubscriptionRegistry();
    const sent: Sent[] = [];
    const [stays, leaves] = [channel('stays', { role: 'authenticated' }, sent), channel('leaves', { role: 'authenticated' }, sent)];
    registry.set(stays, [sub(stays, 1)]);
    registry.set(leaves, [sub(leaves, 1)]);
    const dispatcher = createChangeDispatcher({ registry, checker: fake.checker });
    fake.hold();
    dispatcher.enqueue([change('INSERT', 1)]);
    // Both channels matched; the check is pending.
    while (fake.calls.length === 0) await Promise.resolve();
    registry.remove(leaves);
    fake.release();
    await dispatcher.idle();
    expect(sent.map((message) => message.topic)).toEqual(['realtime:stays']);
  });

  it('tells a channel whose token was refreshed while its batch was being checked to resync, instead of sending it unchecked', async () => {
    const fake = fakeChecker();
    const registry = createSubscriptionRegistry();
    const sent: Sent[] = [];
    const missed: Array<[string, string]> = [];
    const [stays, refreshed] = [channel('stays', { role: 'authenticated', sub: 'a' }, sent), channel('refreshed', { role: 'authenticated', sub: 'b' }, sent)];
    registry.set(stays, [sub(stays, 1)]);
    registry.set(refreshed, [sub(refreshed, 1)]);
    const dispatcher = createChangeDispatcher({ registry, checker: fake.checker, onMissed: (on, _position, reason) => missed.push([on.topic, reason]) });
    fake.hold();
    dispatcher.enqueue([change('INSERT', 1)]);
    while (fake.calls.length === 0) await Promise.resolve();
    refreshed.claims = { role: 'authenticated', sub: 'b', exp: 2 };
    registry.touch();
    fake.release();
    await dispatcher.idle();
    expect(sent.map((message) => message.topic)).toEqual(['realtime:stays']);
    expect(missed).toEqual([['realtime:refreshed', 'visibility_unknown']]);
  });

  it('tells a channel to resync when a DELETE\'s whole old row could not be judged and its binding filters on other columns', async () => {
    const fake = fakeChecker();
    const registry = createSubscriptionRegistry();
    const sent: Sent[] = [];
    const missed: Array<[string, string]> = [];
    const ch = channel('undecided-delete', { role: 'anon' }, sent);
    registry.set(ch, [sub(ch, 1, { event: 'DELETE', matches: (row) => row.secret !== undefined, keyOnlyFilter: false }), sub(ch, 2, { event: 'DELETE' })]);
    const dispatcher = createChangeDispatcher({ registry, checker: fake.checker, onMissed: (on, _position, reason) => missed.push([on.topic, reason]) });
    const deleted = change('DELETE', 4);
    delete (deleted.oldRecordText as Record<string, unknown>).name; // the fake checker can't decide it
    dispatcher.enqueue([deleted]);
    await dispatcher.idle();
    // The key-only binding hears it (key only); whether the filtered one should can't be told.
    expect(sent.map((message) => [message.payload.ids, message.payload.data.old_record])).toEqual([[[2], { id: 4 }]]);
    expect(missed).toEqual([['realtime:undecided-delete', 'visibility_unknown']]);
  });

  it('a binding validated for another role than its channel\'s token holds now matches nothing (until validated again)', async () => {
    const fake = fakeChecker();
    const registry = createSubscriptionRegistry();
    const sent: Sent[] = [];
    const ch = channel('downgraded', { role: 'authenticated', sub: 'a' }, sent);
    registry.set(ch, [sub(ch, 1, { role: 'service_role', matches: (row) => row.secret === 's2' }), sub(ch, 2, { role: 'authenticated' })]);
    const dispatcher = createChangeDispatcher({ registry, checker: fake.checker });
    dispatcher.enqueue([change('INSERT', 2)]);
    await dispatcher.idle();
    expect(sent.map((message) => message.payload.ids)).toEqual([[2]]);
  });

  it('merges the batches queued while a dispatch runs into one check, keeping their order', async () => {
    const fake = fakeChecker();
    const registry = createSubscriptionRegistry();
    const sent: Sent[] = [];
    const ch = channel('merged', { role: 'authenticated' }, sent);
    registry.set(ch, [sub(ch, 1)]);
    const dispatcher = createChangeDispatcher({ registry, checker: fake.checker });
    fake.hold();
    dispatcher.enqueue([change('INSERT', 1)]);
    while (fake.calls.length === 0) await Promise.resolve();
    const later = [change('INSERT', 2), change('UPDATE', 3), change('INSERT', 4)];
    for (const event of later) dispatcher.enqueue([event]);
    fake.release();
    await dispatcher.idle();
    expect(fake.calls.map((call) => call.rows.map((row) => row.id))).toEqual([['1'], ['2', '3', '4']]);
    expect(sent.map((message) => (message.payload.data.record as { id: number }).id)).toEqual([1, 2, 3, 4]);
    expect(dispatcher.position).toBe(later[2]!.position);
  });

  it('runs jobs between batches in queue order, after everything queued before them was sent', async () => {
    const fake = fakeChecker();
    const registry = createSubscriptionRegistry();
    const sent: Sent[] = [];
    const ch = channel('jobs', { role: 'authenticated' }, sent);
    registry.set(ch, [sub(ch, 1)]);
    const dispatcher = createChangeDispatcher({ registry, checker: fake.checker });
    const seenByJob: number[] = [];
    dispatcher.enqueue([change('INSERT', 1)]);
    dispatcher.run(() => {
      seenByJob.push(sent.length);
    });
    dispatcher.enqueue([change('INSERT', 2)]);
    await dispatcher.idle();
    expect(seenByJob).toEqual([1]);
    expect(sent).toHaveLength(2);
  });

  it('turns a TRUNCATE into a notice for every channel on the table, whatever its event or filter', async () => {
    const fake = fakeChecker();
    const registry = createSubscriptionRegistry();
    const sent: Sent[] = [];
    const [filtered, other] = [channel('filtered', { role: 'authenticated' }, sent), channel('other', { role: 'authenticated' }, sent)];
    registry.set(filtered, [sub(filtered, 1, { event: 'INSERT', matches: () => false })]);
    registry.set(other, [sub(other, 2, { table: 'other' })]);
    const truncated: Array<[string, string]> = [];
    const dispatcher = createChangeDispatcher({ registry, checker: fake.checker, onTruncate: (ch, event) => truncated.push([ch.topic, event.table]) });
    dispatcher.enqueue([{ ...change('INSERT', 1), type: 'TRUNCATE', record: undefined, recordText: undefined } as ChangeEvent]);
    await dispatcher.idle();
    expect(truncated).toEqual([['realtime:filtered', 'items']]);
    expect(sent).toEqual([]);
  });

  it('tells the channels of a table whose facts could not be read to resync, after the batch', async () => {
    const fake = fakeChecker();
    const registry = createSubscriptionRegistry();
    const sent: Sent[] = [];
    const [broken, fine] = [channel('broken', { role: 'authenticated' }, sent), channel('fine', { role: 'authenticated' }, sent)];
    registry.set(broken, [sub(broken, 1, { table: 'gone' })]);
    registry.set(fine, [sub(fine, 2)]);
    const checkBatch = fake.checker.checkBatch;
    fake.checker.checkBatch = (table, ...rest) => (table.name === 'gone' ? Promise.reject(new Error('no table public.gone')) : checkBatch(table, ...rest));
    const order: string[] = [];
    const errors: unknown[] = [];
    const dispatcher = createChangeDispatcher({
      registry,
      checker: fake.checker,
      onError: (error) => errors.push(error),
      onMissed: (ch, position, reason) => order.push(`${ch.topic} ${reason} ${position}`),
    });
    const events = [change('INSERT', 1, 'gone'), change('INSERT', 2)];
    dispatcher.enqueue(events);
    await dispatcher.idle();
    expect(sent.map((message) => message.topic)).toEqual(['realtime:fine']);
    expect(order).toEqual([`realtime:broken check_failed ${events[1]!.position}`]);
    expect(errors).toHaveLength(1);
  });

  it('tells the channels of a filter PostgreSQL failed to evaluate to resync, and still serves the others', async () => {
    const fake = fakeChecker();
    const registry = createSubscriptionRegistry();
    const sent: Sent[] = [];
    const [sqlChannel, plain] = [channel('sql', { role: 'authenticated' }, sent), channel('plain', { role: 'authenticated' }, sent)];
    const failing = { key: 'k', prefilter: () => true, columns: ['name'], evaluate: () => Promise.reject(new Error('connection terminated')) };
    const passing = { key: 'p', prefilter: () => true, columns: ['name'], evaluate: async () => new Set([0]) };
    registry.set(sqlChannel, [sub(sqlChannel, 1, { sql: failing, matches: () => true }), sub(sqlChannel, 3, { sql: passing, matches: () => true })]);
    registry.set(plain, [sub(plain, 2)]);
    const missed: string[] = [];
    const dispatcher = createChangeDispatcher({ registry, checker: fake.checker, onError: () => undefined, onMissed: (ch, _p, reason) => missed.push(`${ch.topic} ${reason}`) });
    dispatcher.enqueue([change('INSERT', 1), change('INSERT', 2)]);
    await dispatcher.idle();
    // The passing filter matched the first row only (index 0 of its candidates); the failing one nothing.
    const byTopic = (topic: string) => sent.filter((message) => message.topic === topic).map((message) => [(message.payload.data.record as { id: number }).id, message.payload.ids]);
    expect(byTopic('realtime:sql')).toEqual([[1, [3]]]);
    expect(byTopic('realtime:plain')).toEqual([
      [1, [2]],
      [2, [2]],
    ]);
    expect(missed).toEqual(['realtime:sql filter_failed']);
  });

  it('sends only the columns a channel\'s matching bindings select, plus the key', async () => {
    const fake = fakeChecker();
    const registry = createSubscriptionRegistry();
    const sent: Sent[] = [];
    const [narrow, union, all] = [channel('narrow', { role: 'authenticated' }, sent), channel('union', { role: 'authenticated' }, sent), channel('all', { role: 'authenticated' }, sent)];
    registry.set(narrow, [sub(narrow, 1, { select: ['name'] })]);
    registry.set(union, [sub(union, 1, { select: ['name'] }), sub(union, 2, { select: ['secret'] })]);
    registry.set(all, [sub(all, 1, { select: ['name'] }), sub(all, 2)]);
    const dispatcher = createChangeDispatcher({ registry, checker: fake.checker });
    dispatcher.enqueue([change('INSERT', 1)]);
    await dispatcher.idle();
    const data = (topic: string) => sent.find((message) => message.topic === topic)!.payload.data;
    expect(data('realtime:narrow').record).toEqual({ id: 1, name: 'n1' });
    expect(data('realtime:narrow').columns).toEqual(COLUMNS.slice(0, 2));
    expect(data('realtime:union').record).toEqual({ id: 1, name: 'n1', secret: 's1' });
    expect(data('realtime:all').record).toEqual({ id: 1, name: 'n1', secret: 's1' });
  });

  it('keeps only values of at most 64 bytes and adds Supabase\'s 413 error when data exceeds maxRecordBytes', async () => {
    const fake = fakeChecker();
    const registry = createSubscriptionRegistry();
    const sent: Sent[] = [];
    const ch = channel('big', { role: 'authenticated' }, sent);
    registry.set(ch, [sub(ch, 1)]);
    const dispatcher = createChangeDispatcher({ registry, checker: fake.checker, maxRecordBytes: 500 });
    const big = change('INSERT', 1);
    big.record = { id: 1, name: 'é'.repeat(200), secret: 'x'.repeat(64 - 2) }; // 400 bytes of name; a 64-byte JSON secret
    const small = change('INSERT', 2);
    dispatcher.enqueue([big, small]);
    await dispatcher.idle();
    expect(sent[0]!.payload.data.record).toEqual({ id: 1, secret: 'x'.repeat(62) });
    expect(sent[0]!.payload.data.errors).toEqual(['Error 413: Payload Too Large']);
    expect(sent[1]!.payload.data.errors).toBeNull();
    expect(sent[1]!.payload.data.record).toEqual({ id: 2, name: 'n2', secret: 's2' });
  });

  it('sends a role that may not read the key Supabase\'s 401 with the row withheld, for rows it may see', async () => {
    const fake = fakeChecker();
    const registry = createSubscriptionRegistry();
    const sent: Sent[] = [];
    const ch = channel('nokey', { role: 'nobody' }, sent);
    registry.set(ch, [sub(ch, 1)]);
    const visibleColumns = fake.checker.visibleColumns;
    fake.checker.visibleColumns = async (table, role) => (role === 'nobody' ? ['name'] : visibleColumns(table, role));
    const dispatcher = createChangeDispatcher({ registry, checker: fake.checker });
    dispatcher.enqueue([change('INSERT', 1), change('UPDATE', 2), change('DELETE', 3)]);
    await dispatcher.idle();
    expect(sent.map((message) => message.payload.data)).toEqual([
      { schema: 'public', table: 'items', commit_timestamp: null, type: 'INSERT', columns: [], record: {}, errors: ['Error 401: Unauthorized'] },
      { schema: 'public', table: 'items', commit_timestamp: null, type: 'UPDATE', columns: [], record: {}, old_record: {}, errors: ['Error 401: Unauthorized'] },
      { schema: 'public', table: 'items', commit_timestamp: null, type: 'DELETE', columns: [], old_record: {}, errors: ['Error 401: Unauthorized'] },
    ]);
  });

  it('reworks the cached targets of unfiltered bindings when subscriptions or claims change', async () => {
    const fake = fakeChecker();
    const registry = createSubscriptionRegistry();
    const sent: Sent[] = [];
    const ch = channel('cached', { role: 'anon' }, sent);
    registry.set(ch, [sub(ch, 1)]);
    const dispatcher = createChangeDispatcher({ registry, checker: fake.checker });
    dispatcher.enqueue([change('INSERT', 1), change('INSERT', 2)]);
    await dispatcher.idle();
    // anon sees even ids only; after a refresh to another role it sees every row.
    ch.claims = { role: 'authenticated' };
    registry.touch();
    dispatcher.enqueue([change('INSERT', 3)]);
    await dispatcher.idle();
    const other = channel('added', { role: 'authenticated' }, sent);
    registry.set(other, [sub(other, 2)]);
    dispatcher.enqueue([change('INSERT', 4)]);
    await dispatcher.idle();
    registry.remove(ch);
    dispatcher.enqueue([change('INSERT', 5)]);
    await dispatcher.idle();
    const got = (topic: string) => sent.filter((message) => message.topic === topic).map((message) => (message.payload.data.record as { id: number }).id);
    expect(got('realtime:cached')).toEqual([2, 3, 4]);
    expect(got('realtime:added')).toEqual([4, 5]);
  });
});
