/**
 * Session settings of the replication connection. pgoutput prints every value with the walsender
 * session's output functions, so the settings that change those texts must equal what PostgREST's
 * sessions use when they run to_json (see pgValues.ts): a row from a change event then equals the
 * row fetched through PostgREST.
 *
 * - DateStyle is forced to ISO: the conversion to JSON reads ISO output (to_json itself prints
 *   dates XSD-style whatever DateStyle says, so PostgREST does not care).
 * - TimeZone, IntervalStyle, extra_float_digits, bytea_output and lc_monetary are copied from an
 *   ordinary session of the same database and user: the server's and the database's defaults
 *   (ALTER DATABASE / ALTER ROLE ... SET included), which is what PostgREST's sessions get unless
 *   they are configured differently. `timeZone` overrides the zone for that case.
 */
import type pg from 'pg';

const COPIED = ['TimeZone', 'IntervalStyle', 'extra_float_digits', 'bytea_output', 'lc_monetary'] as const;

export type SessionSettings = Record<(typeof COPIED)[number] | 'DateStyle', string>;

/** Reads the database's defaults through `pool` and fixes DateStyle; `timeZone` wins when given. */
export async function readSessionSettings(pool: pg.Pool, timeZone?: string): Promise<SessionSettings> {
  const columns = COPIED.map((name, index) => `current_setting('${name}') as s${index}`).join(', ');
  const { rows } = await pool.query<Record<string, string>>(`select ${columns}`);
  const row = rows[0] ?? {};
  const settings = { DateStyle: 'ISO, MDY' } as SessionSettings;
  COPIED.forEach((name, index) => {
    settings[name] = row[`s${index}`] ?? '';
  });
  if (timeZone !== undefined) settings.TimeZone = timeZone;
  return settings;
}

/**
 * The startup `options` string (`-c name=value ...`) that applies `settings` from the first
 * message on. libpq's rule: a backslash escapes the next character, spaces separate arguments.
 */
export function startupOptions(settings: SessionSettings): string {
  return Object.entries(settings)
    .filter(([, value]) => value !== '')
    .map(([name, value]) => `-c ${name}=${value.replace(/[\\\s]/g, (char) => `\\${char}`)}`)
    .join(' ');
}
