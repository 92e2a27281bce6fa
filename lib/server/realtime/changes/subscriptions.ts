/**
 * postgres_changes subscriptions: a channel's bindings checked against the catalog (table, filter
 * columns and values, and what the subscriber's role may read), and the registry the dispatcher
 * looks them up in by (schema, table).
 *
 * A filter may only read columns the role may SELECT (Supabase's subscription check refuses the
 * others too): a filter on a hidden column would tell its subscriber, by delivering or not, what
 * the hidden value is. The same for `select`, and a table the role may not read at all is refused.
 */
import type { Queryable } from '../authorization/index.js';
import { compileFilter, parseFilter, type RowPredicate } from '../filters/index.js';
import type { PostgresBinding } from '../channels/joinConfig.js';
import type { JoinedChannel } from '../channels/rooms.js';
import { loadPublishedTable, schemaExists, type ColumnDescription, type PublishedTable } from './catalog.js';
import { compileSqlFilter, type SqlFilter } from './sqlFilter.js';

export type ChangeType = 'INSERT' | 'UPDATE' | 'DELETE';

/** One validated binding of one channel. */
export interface Subscription {
  readonly channel: JoinedChannel;
  /** The id the join reply gave the binding. */
  readonly id: number;
  /** Null for `*`. */
  readonly event: ChangeType | null;
  readonly schema: string;
  /** Null for every table of the schema. */
  readonly table: string | null;
  /** Null without a filter. With `sql`, the part evaluated in memory. */
  readonly matches: RowPredicate | null;
  /**
   * The filter reads only primary key columns (or there is none): it matches a row known by its key
   * alone (an old row the subscriber could not read) exactly as the whole row.
   */
  readonly keyOnlyFilter: boolean;
  /** The binding's `select`: columns to send (the key always goes too); null for every column. */
  readonly select: readonly string[] | null;
  /** Conditions PostgreSQL evaluates (collations, patterns); null when memory decides alone. */
  readonly sql: SqlFilter | null;
  /** The binding's `filter` as the client sent it (for messages about it). */
  readonly filterText?: string;
  /**
   * The role it was validated for (its filter's and select's columns are that role's). While the
   * channel's token holds another role (a refresh, until validated again), it matches nothing.
   */
  readonly role?: string;
  /** The table's columns (base typname, collation) for the client; null for a whole-schema binding. */
  readonly columns?: readonly ColumnDescription[] | null;
}

/**
 * `retry`: the refusal may go away by itself (a table or column not there yet, not yet published):
 * Supabase retries those every 5–10 s; malformed bindings are refused for good.
 */
export type BindingsResult = { ok: true; subscriptions: Subscription[] } | { ok: false; message: string; retry: boolean };

/** A refusal that a later migration can cure. */
class Retryable {
  constructor(readonly message: string) {}
}

const EVENTS = new Set(['*', 'INSERT', 'UPDATE', 'DELETE']);

export interface ValidateOptions {
  publication: string;
  /** Where SQL filters are evaluated later (sessions with a statement_timeout). */
  filterSessions: Queryable;
  /** False once the channel left: validation stops there (its socket's work ends with it). */
  wanted: () => boolean;
}

/** Why validation stopped: the channel left meanwhile. */
export const ABANDONED: BindingsResult = { ok: false, message: 'the channel left', retry: false };

/** Checks every binding of `channel`; the first problem refuses them all, its message naming the binding. */
export async function validateBindings(db: Queryable, channel: JoinedChannel, options: ValidateOptions): Promise<BindingsResult> {
  const subscriptions: Subscription[] = [];
  // One catalog read per table, however many bindings name it.
  const tables = new Map<string, Promise<PublishedTable>>();
  const role = String(channel.claims.role);
  const tableOf = (schema: string, table: string) => {
    const key = JSON.stringify([schema, table]);
    let found = tables.get(key);
    if (!found) tables.set(key, (found = loadPublishedTable(db, schema, table, options.publication, role)));
    return found;
  };
  for (const [index, binding] of channel.config.postgresChanges.entries()) {
    if (!options.wanted()) return ABANDONED;
    const result = await validateBinding(db, channel, binding, tableOf, options);
    if (typeof result === 'string') return { ok: false, message: `Error parsing postgres_changes[${index}]: ${result}`, retry: false };
    if (result instanceof Retryable) return { ok: false, message: `Error parsing postgres_changes[${index}]: ${result.message}`, retry: true };
    subscriptions.push(result);
  }
  return { ok: true, subscriptions };
}

async function validateBinding(
  db: Queryable,
  channel: JoinedChannel,
  binding: PostgresBinding,
  tableOf: (schema: string, table: string) => Promise<PublishedTable>,
  options: ValidateOptions,
): Promise<Subscription | Retryable | string> {
  const params = binding.params as { event?: string; schema?: string; table?: string; filter?: string };
  const event = (params.event ?? '*').toUpperCase();
  if (!EVENTS.has(event)) return `event must be one of *, INSERT, UPDATE, DELETE, got ${JSON.stringify(params.event)}`;
  const schema = params.schema ?? 'public';
  const table = params.table === undefined || params.table === '*' ? null : params.table;
  const select = binding.select ?? null;
  const base = { channel, id: binding.id, event: event === '*' ? null : (event as ChangeType), schema, table, select, ...(params.filter ? { filterText: params.filter } : {}) };
  if (table === null) {
    if (params.filter !== undefined && params.filter !== '') return 'a filter needs a table';
    if (select !== null) return 'a select needs a table';
    if (!(await schemaExists(db, schema))) return new Retryable(`schema ${JSON.stringify(schema)} does not exist`);
    return { ...base, matches: null, keyOnlyFilter: true, sql: null, columns: null };
  }
  const found = await tableOf(schema, table);
  const name = JSON.stringify(`${schema}.${table}`);
  if (!found.exists) return new Retryable(`table ${name} does not exist`);
  if (!found.published) return new Retryable(`table ${name} is not in publication ${JSON.stringify(options.publication)}`);
  // PostgreSQL's own words; a GRANT can cure it, so it is retried.
  if (!found.columns.some((column) => column.readable)) return new Retryable(`permission denied for table ${name}`);
  const unknown = select?.find((column) => !found.columns.some((candidate) => candidate.name === column && candidate.readable));
  if (unknown !== undefined) return new Retryable(`invalid column for select: ${JSON.stringify(unknown)}`);
  const described = { ...base, columns: found.described };
  if (params.filter === undefined || params.filter === '') return { ...described, matches: null, keyOnlyFilter: true, sql: null };
  const parsed = parseFilter(params.filter);
  if (parsed instanceof Error) return parsed.message;
  const compiled = compileFilter(parsed, found.columns, { textOrderIsCodepoint: false });
  if (compiled instanceof Error) return compiled.code === 'FILTER_UNKNOWN_COLUMN' ? new Retryable(compiled.message) : compiled.message;
  // Supabase's words (realtime.subscription_check_filters): a hidden column is as good as unknown.
  const hidden = compiled.columns.find((column) => !found.columns.some((candidate) => candidate.name === column && candidate.readable));
  if (hidden !== undefined) return new Retryable(`invalid column for filter ${hidden}`);
  const keyOnlyFilter = compiled.columns.every((column) => found.primaryKey.includes(column));
  if (compiled.kind === 'sql') {
    const sql = await compileSqlFilter(db, compiled.sql, compiled.prefilter, found.sqlTypes, options.filterSessions);
    if (typeof sql === 'string') return `invalid filter ${JSON.stringify(params.filter)}: ${sql}`;
    return { ...described, matches: compiled.prefilter, keyOnlyFilter, sql };
  }
  return { ...described, matches: compiled.matches, keyOnlyFilter, sql: null };
}

/** The live subscriptions, indexed by table. */
export interface SubscriptionRegistry {
  /** Replaces whatever `channel` had. */
  set(channel: JoinedChannel, subscriptions: readonly Subscription[]): void;
  remove(channel: JoinedChannel): void;
  has(channel: JoinedChannel): boolean;
  /** `channel`'s subscriptions, if registered. */
  get(channel: JoinedChannel): readonly Subscription[] | undefined;
  /** Every registered channel. */
  channels(): JoinedChannel[];
  /** Subscriptions on `schema.table` and on every table of `schema`, in registration order per channel. */
  forTable(schema: string, table: string): readonly Subscription[];
  readonly size: number;
  /** Bumped by every change of the subscriptions, and by `touch`. */
  readonly version: number;
  /** Marks a change the registry can't see itself (a subscriber's claims were replaced). */
  touch(): void;
}

/** Creates an empty registry. */
export function createSubscriptionRegistry(): SubscriptionRegistry {
  const byChannel = new Map<JoinedChannel, readonly Subscription[]>();
  const byTable = new Map<string, Set<Subscription>>();
  const keyOf = (schema: string, table: string | null) => JSON.stringify([schema, table]);

  let version = 0;

  const remove = (channel: JoinedChannel) => {
    const previous = byChannel.get(channel);
    if (!previous) return;
    version++;
    byChannel.delete(channel);
    for (const subscription of previous) {
      const key = keyOf(subscription.schema, subscription.table);
      const set = byTable.get(key);
      set?.delete(subscription);
      if (set?.size === 0) byTable.delete(key);
    }
  };

  return {
    set(channel, subscriptions) {
      remove(channel);
      version++;
      byChannel.set(channel, subscriptions);
      for (const subscription of subscriptions) {
        const key = keyOf(subscription.schema, subscription.table);
        let set = byTable.get(key);
        if (!set) byTable.set(key, (set = new Set()));
        set.add(subscription);
      }
    },
    remove,
    has: (channel) => byChannel.has(channel),
    get: (channel) => byChannel.get(channel),
    channels: () => [...byChannel.keys()],
    forTable(schema, table) {
      const exact = byTable.get(keyOf(schema, table));
      const wildcard = byTable.get(keyOf(schema, null));
      if (!wildcard) return exact ? [...exact] : [];
      return [...(exact ?? []), ...wildcard];
    },
    get size() {
      return byChannel.size;
    },
    get version() {
      return version;
    },
    touch() {
      version++;
    },
  };
}
