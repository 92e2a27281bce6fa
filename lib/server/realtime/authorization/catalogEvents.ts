/**
 * What lets the visibility checker keep a table's catalog facts (RLS on/off, grants, policies, role
 * access) across batches instead of reading them for every batch: DDL announced IN the replication
 * stream, and a cheap per-batch version check for what DDL triggers can't see.
 *
 * ## DDL, in stream order
 * The server installs (idempotently, at start; superuser only) an event trigger on
 * `ddl_command_end` whose function calls `pg_logical_emit_message(true, 'rtk_postgrest_ddl', '<xid> <tag>')`.
 * A transactional message is decoded at its transaction's commit, in WAL order, so pgoutput
 * delivers it after every change committed before the DDL and before any change committed after it
 * (and before its own transaction's changes). The server drops every cached fact when it arrives, as
 * a dispatcher job between batches, which also waits until the DDL's transaction is visible to new
 * snapshots (afterDdl): no change committed after a DDL is ever checked with facts read before it. A NOTIFY (LISTEN) would not do: it travels on another connection, and a change
 * committed after the DDL can reach us through replication before the notification does.
 * `ddl_command_end` fires for DROP, GRANT, REVOKE and CREATE OR REPLACE FUNCTION too (sql_drop adds
 * nothing it doesn't), and ALTER DEFAULT PRIVILEGES changes no existing object's privileges.
 *
 * ## What no event trigger sees, checked per batch
 * Roles are global objects: CREATE/ALTER/DROP ROLE, GRANT/REVOKE role membership, and REASSIGN
 * OWNED fire no event trigger. Nor does a change to the event trigger itself (disabled, dropped,
 * its function replaced). So a cached entry carries a version read in the same snapshot as its
 * facts: the content of pg_roles' access-deciding columns and of pg_auth_members, the table's and
 * its schema's catalog row versions (xmin: REASSIGN OWNED rewrites them) and the trigger's state.
 * Each batch that uses cached facts reads the versions once (one small query on a session of its
 * own, sent after the batch's changes arrived, alongside the checks); an entry whose version moved
 * is read again and the batch checked again. When the trigger is missing or not enabled ALWAYS,
 * nothing is cached: facts are read per batch, as without this module.
 *
 * Not covered (documented): a superuser session that turns event triggers off (`SET event_triggers
 * = off`, PostgreSQL 17+) and then changes policies or grants; single-user mode.
 */
import { createHash } from 'node:crypto';
// Types only: catalog.ts builds its statements from this module's SQL.
import type { Queryable } from './queryable.js';
import type { LogicalMessage } from '../replication/types.js';

/** The prefix of the logical messages the DDL trigger emits. */
export const DDL_MESSAGE_PREFIX = 'rtk_postgrest_ddl';
/** The event trigger's name (in pg_event_trigger). */
export const DDL_EVENT_TRIGGER = 'rtk_postgrest_realtime_ddl';
/** The trigger's function. */
export const DDL_EVENT_FUNCTION = 'rtk_postgrest.realtime_ddl_event';

// Security definer (owned by the installing superuser): DDL by any role emits the message, whether or
// not that role may call pg_logical_emit_message itself. (Any role that may can emit a message with
// our prefix too: afterDdl waits only for the emitting transaction's own id.) Commands that only touch temporary objects are skipped (no other session,
// ours included, can see them). Without wal_level=logical no replication stream, so no cache, can
// exist: the trigger then does nothing rather than fail every DDL.
const FUNCTION_BODY = `
begin
  if pg_catalog.current_setting('wal_level') operator(pg_catalog.<>) 'logical' then return; end if;
  if exists (select from pg_catalog.pg_event_trigger_ddl_commands())
     and not exists (select from pg_catalog.pg_event_trigger_ddl_commands() c
                      where c.schema_name is null or c.schema_name !~ '^pg_(toast_)?temp') then
    return;
  end if;
  perform pg_catalog.pg_logical_emit_message(true, '${DDL_MESSAGE_PREFIX}',
    pg_catalog.pg_current_xact_id()::pg_catalog.text operator(pg_catalog.||) ' ' operator(pg_catalog.||) tg_tag);
end`;

const FUNCTION_BODY_MD5 = createHash('md5').update(FUNCTION_BODY).digest('hex');

// One simple-protocol message: one implicit transaction, all or nothing.
const INSTALL_SQL = `
select pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('${DDL_EVENT_TRIGGER}'));
create schema if not exists rtk_postgrest;
create or replace function ${DDL_EVENT_FUNCTION}() returns event_trigger
  language plpgsql security definer set search_path = pg_catalog as $rtk$${FUNCTION_BODY}$rtk$;
do $rtk$ begin
  if not exists (select from pg_catalog.pg_event_trigger where evtname = '${DDL_EVENT_TRIGGER}') then
    create event trigger ${DDL_EVENT_TRIGGER} on ddl_command_end execute function ${DDL_EVENT_FUNCTION}();
  end if;
end $rtk$;
alter event trigger ${DDL_EVENT_TRIGGER} enable always;`;

/**
 * Installs (or repairs) the DDL event trigger; resolves with why it could not (not a superuser,
 * ...) or null. Safe to run from several servers at once (an advisory lock orders them).
 */
export async function installDdlEventTrigger(db: Queryable): Promise<string | null> {
  try {
    await db.query(INSTALL_SQL);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

/** How long afterDdl waits for a DDL to become visible before it gives up (it never should). */
const VISIBLE_WITHIN_MS = 2000;

/**
 * What a DDL message (content `<xid> <command tag>`) requires before the next batch is checked: the
 * kept facts dropped, and the DDL visible to new snapshots. Its commit record reached the stream a
 * moment before the committing session left PostgreSQL's list of running transactions; facts read
 * in between would miss it, and be kept. Run it as a dispatcher job, between the batches.
 */
export async function afterDdl(db: Queryable, message: Pick<LogicalMessage, 'content' | 'xid'>, invalidate: () => void): Promise<void> {
  invalidate();
  const xid = /^([0-9]+) /.exec(message.content)?.[1];
  if (xid === undefined) return;
  // Any role may call pg_logical_emit_message: only the xid of the transaction that emitted the
  // message is waited for, so a forged one (another transaction's id, one far in the future) can't
  // hold the stream; dropping the kept facts is harmless.
  if (Number(BigInt(xid) & 0xffffffffn) !== message.xid) return;
  const deadline = Date.now() + VISIBLE_WITHIN_MS;
  for (;;) {
    const result = (await db.query('select pg_catalog.pg_visible_in_snapshot($1::pg_catalog.xid8, pg_catalog.pg_current_snapshot()) as visible', [xid])) as {
      rows: Array<{ visible: unknown }>;
    };
    if (result.rows[0]?.visible === true || result.rows[0]?.visible === 't') return;
    if (Date.now() > deadline) throw new Error(`the DDL of transaction ${xid} was not visible ${VISIBLE_WITHIN_MS} ms after its commit arrived`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** The trigger exists, fires in every session_replication_role, and runs our function as installed. */
export const DDL_TRACKED_SQL = `
coalesce((select e.evtenabled = 'A' and pg_catalog.md5(p.prosrc) = '${FUNCTION_BODY_MD5}'
            from pg_catalog.pg_event_trigger e join pg_catalog.pg_proc p on p.oid = e.evtfoid
           where e.evtname = '${DDL_EVENT_TRIGGER}' and e.evtevent = 'ddl_command_end'), false)`;

/**
 * The version of table `c`'s facts that DDL messages don't announce: role attributes that decide
 * access and memberships (content), the table's and its schema's row versions, and the trigger's.
 * Read in the same statement as the facts it versions (catalog.ts), and by CATALOG_VERSIONS_SQL.
 */
export const catalogVersionSql = (c: string) => `
       ${c}.oid::pg_catalog.text operator(pg_catalog.||) ':' operator(pg_catalog.||) pg_catalog.md5(pg_catalog.concat_ws(';',
         (select pg_catalog.string_agg(s.t, ',' order by s.t) from (
            select pg_catalog.concat_ws(':', r.oid, r.rolname, r.rolsuper, r.rolinherit, r.rolbypassrls) as t from pg_catalog.pg_roles r
            union all select m::pg_catalog.text from pg_catalog.pg_auth_members m) s),
         ${c}.xmin::pg_catalog.text,
         (select n.xmin::pg_catalog.text from pg_catalog.pg_namespace n where n.oid = ${c}.relnamespace),
         (select pg_catalog.concat_ws(':', e.xmin, e.evtenabled, p.xmin) from pg_catalog.pg_event_trigger e
            join pg_catalog.pg_proc p on p.oid = e.evtfoid where e.evtname = '${DDL_EVENT_TRIGGER}')))`;

const CATALOG_VERSIONS_SQL = `
select t.schema, t.name, ${catalogVersionSql('c')} as version, ${DDL_TRACKED_SQL} as tracked
  from rows from (pg_catalog.unnest($1::pg_catalog.text[]), pg_catalog.unnest($2::pg_catalog.text[])) as t(schema, name)
  join pg_catalog.pg_namespace n on n.nspname::pg_catalog.text = t.schema
  join pg_catalog.pg_class c on c.relnamespace = n.oid and c.relname::pg_catalog.text = t.name and c.relkind in ('r', 'p')`;

const CATALOG_VERSIONS_STATEMENT = 'rtk_catalog_versions_1';

/** Current catalog versions by table key (JSON [schema, name]); null when the DDL trigger can't be relied on. */
export type CatalogVersionMap = ReadonlyMap<string, string> | null;

export interface CatalogVersions {
  /**
   * The versions of `tables` as of a snapshot taken after this call. Calls made before the query is
   * sent (the tables of one batch) share it.
   */
  versionsOf(table: { schema: string; name: string }): Promise<CatalogVersionMap>;
}

/** What createCatalogVersions needs: a pg.Pool or pg.Client, whose sessions can prepare a named statement. */
export interface NamedQueryable {
  query(config: { name: string; text: string; values: unknown[] }): Promise<unknown>;
}

/** Versions read on `db` (best a pool of its own, so a batch's checks never wait for it). */
export function createCatalogVersions(db: NamedQueryable): CatalogVersions {
  interface Pending {
    tables: Map<string, { schema: string; name: string }>;
    result: Promise<CatalogVersionMap>;
  }
  let pending: Pending | undefined;
  const read = async (tables: ReadonlyMap<string, { schema: string; name: string }>): Promise<CatalogVersionMap> => {
    const list = [...tables.values()];
    const values = [list.map((table) => table.schema), list.map((table) => table.name)];
    // Named: parsed and planned once per session (pg prepares it on first use).
    const result = (await db.query({ name: CATALOG_VERSIONS_STATEMENT, text: CATALOG_VERSIONS_SQL, values })) as { rows: Array<Record<string, unknown>> };
    const rows = result.rows;
    const versions = new Map<string, string>();
    for (const row of rows) {
      if (row.tracked !== true && row.tracked !== 't') return null;
      versions.set(JSON.stringify([String(row.schema), String(row.name)]), String(row.version));
    }
    return versions;
  };
  return {
    versionsOf(table) {
      if (!pending) {
        const batch: Pending = { tables: new Map(), result: Promise.resolve(null) };
        // Sent after the callers of this turn joined; a later caller starts the next query.
        batch.result = new Promise<void>((resolve) => queueMicrotask(resolve)).then(() => {
          if (pending === batch) pending = undefined;
          return read(batch.tables);
        });
        pending = batch;
      }
      pending.tables.set(JSON.stringify([table.schema, table.name]), { schema: table.schema, name: table.name });
      return pending.result;
    },
  };
}
