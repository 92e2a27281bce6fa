/**
 * The `realtime` schema as Supabase defines what apps call (docs/realtime-protocol-extensions.md,
 * "Private channels" and "Broadcast from the database"):
 * - `realtime.messages`: row level security on it authorizes private channels (no policy: nobody),
 *   and its inserted broadcast rows reach the topic's subscribers through the replication stream;
 * - `realtime.topic()`: the topic being authorized or sent to, for policies;
 * - `realtime.send(payload, event, topic, private)` and the trigger helper `realtime.broadcast_changes(...)`.
 * Idempotent, run on every start before the migrations, so they can create policies on it.
 */
import type pg from 'pg';
import { API_ROLES } from './roles.js';

const GRANTEES = API_ROLES.join(', ');

export const REALTIME_SCHEMA_SQL = `
create schema if not exists realtime;
grant usage on schema realtime to ${GRANTEES};

create table if not exists realtime.messages (
  id          uuid not null default gen_random_uuid() primary key,
  topic       text not null,
  extension   text not null check (extension in ('broadcast', 'presence')),
  event       text,
  payload     jsonb,
  private     boolean not null default true,
  inserted_at timestamp not null default now(),
  updated_at  timestamp not null default now()
);
create index if not exists messages_inserted_at_idx on realtime.messages (inserted_at);
alter table realtime.messages enable row level security;
grant select, insert on realtime.messages to ${GRANTEES};

create or replace function realtime.topic() returns text
  language sql stable
  as $$ select nullif(current_setting('realtime.topic', true), '')::text $$;

-- As Supabase's: runs as the caller, so the INSERT policies on realtime.messages apply; a refused
-- insert is a warning, never an error that aborts the caller's transaction.
create or replace function realtime.send(payload jsonb, event text, topic text, private boolean default true) returns void
  language plpgsql
  as $$
declare
  generated_id uuid;
  final_payload jsonb;
begin
  begin
    generated_id := gen_random_uuid();
    final_payload := case when payload ? 'id' then payload else jsonb_set(payload, '{id}', to_jsonb(generated_id)) end;
    execute format('set local realtime.topic to %L', topic);
    insert into realtime.messages (id, payload, event, topic, private, extension)
    values (generated_id, final_payload, event, topic, private, 'broadcast');
  exception
    when others then
      raise warning 'WarnSendingBroadcastMessage: %', sqlerrm;
  end;
end
$$;

create or replace function realtime.broadcast_changes(
  topic_name text, event_name text, operation text, table_name text, table_schema text,
  new record, old record, level text default 'ROW'
) returns void
  language plpgsql
  as $$
declare
  row_data jsonb := '{}'::jsonb;
begin
  if level = 'STATEMENT' then
    raise exception 'function can only be triggered for each row, not for each statement';
  end if;
  if operation = 'INSERT' or operation = 'UPDATE' or operation = 'DELETE' then
    row_data := jsonb_build_object('old_record', old, 'record', new, 'operation', operation, 'table', table_name, 'schema', table_schema);
    perform realtime.send(row_data, event_name, topic_name);
  else
    raise exception 'Unexpected operation type: %', operation;
  end if;
exception
  when others then
    raise exception 'Failed to process the row: %', sqlerrm;
end
$$;

grant execute on function realtime.topic() to ${GRANTEES};
grant execute on function realtime.send(jsonb, text, text, boolean) to ${GRANTEES};
grant execute on function realtime.broadcast_changes(text, text, text, text, text, record, record, text) to ${GRANTEES};
`;

/** Creates (or brings up to date) the realtime schema. */
export async function createRealtimeSchema(client: pg.Client): Promise<void> {
  await client.query(REALTIME_SCHEMA_SQL);
}
