/**
 * Validation of a `phx_join` payload (docs/realtime-protocol.md §2.2): the channel's broadcast,
 * presence and privacy settings, its postgres_changes bindings with the ids the join reply echoes
 * (§2.3), and the token it joins with. Pure.
 */
import { createHash, randomUUID } from 'node:crypto';
import { kindOf } from '../errors.js';
import { isStreamPosition, type StreamPosition } from '../replication/resumeLog.js';

/** One `postgres_changes` binding as the client sent it, plus the id the join reply gives it. */
export interface PostgresBinding {
  /** The client's object, echoed back unchanged: realtime-js compares event/schema/table/filter. */
  readonly params: Readonly<Record<string, unknown>>;
  readonly id: number;
  /** `select`: the columns the binding wants (Supabase's newer projection); absent for all. */
  readonly select?: readonly string[];
}

export interface JoinConfig {
  broadcast: { ack: boolean; self: boolean };
  /** `key` is never empty: a join without one gets a generated key, as Supabase does. */
  presence: { enabled: boolean; key: string };
  private: boolean;
  postgresChanges: PostgresBinding[];
  /** `access_token` (or legacy `user_token`) when the join carries its own token. */
  accessToken?: string;
  /**
   * Our extension (docs/realtime-protocol-extensions.md): `config.resume_after`, the stream position
   * of the last postgres_changes message the client applied; the server replays what came after.
   */
  resumeAfter?: StreamPosition;
  /**
   * Our extension: `config.leave_events`, hear LEAVE (the key only) when an UPDATE takes a row out
   * of what this channel's role may see, so a client holding the row can drop it.
   */
  leaveEvents: boolean;
  /**
   * `config.postgres_changes_options` (realtime-js 2.11x+): with `wait`, the join is answered only
   * once its postgres_changes bindings are live, and refused with the reason when they can't be
   * within `timeoutMs` (absent: the server's default). Absent: not asked for.
   */
  postgresChangesOptions?: { wait: boolean; timeoutMs?: number };
}

export type JoinConfigResult = { ok: true; config: JoinConfig } | { ok: false; message: string };

const BINDING_STRING_FIELDS = ['event', 'schema', 'table', 'filter'] as const;

/** Reads a join payload; a refusal's message names the offending field. */
export function parseJoinConfig(payload: Record<string, unknown>): JoinConfigResult {
  try {
    return { ok: true, config: readConfig(payload) };
  } catch (error) {
    if (error instanceof JoinPayloadError) return { ok: false, message: error.message };
    throw error;
  }
}

class JoinPayloadError extends Error {}

function readConfig(payload: Record<string, unknown>): JoinConfig {
  const config = optionalObject(payload.config, 'config');
  const broadcast = optionalObject(config.broadcast, 'config.broadcast');
  const presence = optionalObject(config.presence, 'config.presence');
  const result: JoinConfig = {
    broadcast: { ack: flexibleBoolean(broadcast.ack, 'config.broadcast.ack'), self: flexibleBoolean(broadcast.self, 'config.broadcast.self') },
    presence: { enabled: flexibleBoolean(presence.enabled, 'config.presence.enabled'), key: presenceKey(presence.key) },
    private: flexibleBoolean(config.private, 'config.private'),
    postgresChanges: readBindings(config.postgres_changes),
    leaveEvents: flexibleBoolean(config.leave_events, 'config.leave_events'),
  };
  const waitOptions = optionalObject(config.postgres_changes_options, 'config.postgres_changes_options');
  if (config.postgres_changes_options !== undefined && config.postgres_changes_options !== null) {
    const timeout = waitOptions.timeout;
    if (timeout !== undefined && timeout !== null && (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0)) {
      throw new JoinPayloadError(`config.postgres_changes_options.timeout must be a positive number of milliseconds, got ${describeValue(timeout)}`);
    }
    result.postgresChangesOptions = {
      wait: flexibleBoolean(waitOptions.wait, 'config.postgres_changes_options.wait'),
      ...(typeof timeout === 'number' && { timeoutMs: Math.ceil(timeout) }),
    };
  }
  if (config.resume_after !== undefined && config.resume_after !== null) {
    if (!isStreamPosition(config.resume_after)) {
      throw new JoinPayloadError(`config.resume_after must be a stream position like "00000016B374D848:00000002", got ${describeValue(config.resume_after)}`);
    }
    result.resumeAfter = config.resume_after;
  }
  const token = payload.access_token ?? payload.user_token;
  if (token !== undefined && token !== null) {
    if (typeof token !== 'string') throw new JoinPayloadError(`access_token must be a string, got ${kindOf(token)}`);
    // `sb_` keys are not JWTs: Supabase falls back to the socket's token for them.
    if (!token.startsWith('sb_')) result.accessToken = token;
  }
  return result;
}

function describeValue(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value) : kindOf(value);
}

function optionalObject(value: unknown, field: string): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new JoinPayloadError(`${field} must be an object, got ${kindOf(value)}`);
  return value as Record<string, unknown>;
}

/** Supabase's schemas cast "true"/"false" strings too ("flexible" booleans). */
function flexibleBoolean(value: unknown, field: string): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new JoinPayloadError(`${field} must be a boolean, got ${kindOf(value)}`);
}

function presenceKey(value: unknown): string {
  if (typeof value === 'string' && value.length > 0) return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return randomUUID();
}

function readBindings(value: unknown): PostgresBinding[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new JoinPayloadError(`config.postgres_changes must be an array, got ${kindOf(value)}`);
  return value.map((entry, index) => {
    const field = `config.postgres_changes[${index}]`;
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) throw new JoinPayloadError(`${field} must be an object, got ${kindOf(entry)}`);
    const params = entry as Record<string, unknown>;
    for (const name of BINDING_STRING_FIELDS) {
      const v = params[name];
      if (v !== undefined && typeof v !== 'string') throw new JoinPayloadError(`${field}.${name} must be a string, got ${kindOf(v)}`);
    }
    const select = params.select;
    if (select === undefined || select === null) return { params, id: bindingId(params) };
    if (!Array.isArray(select) || select.some((column) => typeof column !== 'string' || column === '')) {
      throw new JoinPayloadError(`${field}.select must be an array of column names, got ${kindOf(select)}`);
    }
    return { params, id: bindingId(params), select: [...new Set(select as string[])] };
  });
}

/**
 * A stable id per binding (Supabase uses `phash2(params)`): the same params always get the same id,
 * so a rejoin after reconnect matches the ids a client already holds.
 */
export function bindingId(params: Readonly<Record<string, unknown>>): number {
  const digest = createHash('sha1').update(canonicalJson(params)).digest();
  // 31 bits: a positive integer that every JSON client reads exactly.
  return digest.readUInt32BE(0) >>> 1;
}

function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const object = value as Record<string, unknown>;
  return `{${Object.keys(object)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonicalJson(object[key])}`)
    .join(',')}}`;
}
