import type pg from 'pg';
import { StackError } from './errors.js';
import { SUPERUSER } from './postgres.js';

/** The roles PostgREST switches to, as in Supabase. */
export const API_ROLES = ['anon', 'authenticated', 'service_role'] as const;
const GRANTEES = API_ROLES.join(', ');

/**
 * Idempotent, run on every start: roles, the rtk_postgrest bookkeeping schema, Supabase-like
 * default privileges in public (RLS is the security mechanism), and event triggers that tell
 * PostgREST to reload its schema cache after DDL, so tables created later are served too.
 */
export async function prepareDatabase(client: pg.Client, authenticatorPassword: string): Promise<void> {
  await client.query(`
    do $$
    begin
      if not exists (select from pg_roles where rolname = 'anon') then create role anon nologin noinherit; end if;
      if not exists (select from pg_roles where rolname = 'authenticated') then create role authenticated nologin noinherit; end if;
      if not exists (select from pg_roles where rolname = 'service_role') then create role service_role nologin noinherit bypassrls; end if;
      if not exists (select from pg_roles where rolname = 'authenticator') then create role authenticator login noinherit; end if;
    end $$;
    alter role authenticator with login noinherit password ${client.escapeLiteral(authenticatorPassword)};

    create schema if not exists rtk_postgrest;
    create table if not exists rtk_postgrest.migrations (
      name       text primary key,
      checksum   text not null,
      applied_at timestamptz not null default now()
    );
    create table if not exists rtk_postgrest.exposed_schemas (name text primary key);

    create or replace function rtk_postgrest.reload_postgrest_schema() returns event_trigger
      language plpgsql as $$ begin notify pgrst, 'reload schema'; end $$;
    drop event trigger if exists rtk_postgrest_ddl_watch;
    create event trigger rtk_postgrest_ddl_watch on ddl_command_end execute function rtk_postgrest.reload_postgrest_schema();
    drop event trigger if exists rtk_postgrest_drop_watch;
    create event trigger rtk_postgrest_drop_watch on sql_drop execute function rtk_postgrest.reload_postgrest_schema();
  `);
  // Grants are separate so that re-granting memberships on restart only raises notices.
  await client.query(`
    grant ${GRANTEES} to authenticator;
    grant usage on schema public to ${GRANTEES};
    ${defaultPrivileges('public')}
  `);
}

/**
 * Makes each exposed schema reachable. `public` was prepared before the user's SQL; any other schema
 * must exist by now (the SQL creates it) and, the first time it is exposed, gets grants on what it
 * already holds, so later restarts never undo a revoke.
 */
export async function exposeSchemas(client: pg.Client, schemas: readonly string[]): Promise<void> {
  for (const schema of schemas) {
    if (schema === 'public') continue;
    const { rowCount } = await client.query('select from pg_namespace where nspname = $1', [schema]);
    if (!rowCount) {
      throw new StackError('BAD_OPTION', `schemas: schema "${schema}" does not exist after applying the SQL; create it there or remove it from schemas`);
    }
    const name = client.escapeIdentifier(schema);
    await client.query(`grant usage on schema ${name} to ${GRANTEES}; ${defaultPrivileges(schema, client)}`);
    const first = await client.query('insert into rtk_postgrest.exposed_schemas (name) values ($1) on conflict do nothing returning name', [schema]);
    if (first.rowCount) {
      await client.query(
        ['tables', 'sequences', 'functions'].map((kind) => `grant all on all ${kind} in schema ${name} to ${GRANTEES};`).join('\n'),
      );
    }
  }
}

function defaultPrivileges(schema: string, client?: pg.Client): string {
  const name = client ? client.escapeIdentifier(schema) : schema;
  return ['tables', 'sequences', 'functions']
    .map((kind) => `alter default privileges for role ${SUPERUSER} in schema ${name} grant all on ${kind} to ${GRANTEES};`)
    .join('\n');
}
