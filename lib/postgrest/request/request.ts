import { PostgrestBuilderError, describeValue } from '../errors.js';
import { explainHeaderValue, isHeaderName } from './headers.js';
import type { PostgrestRequest, PostgrestRequestLike } from './types.js';

const ACTIONS = ['select', 'insert', 'update', 'upsert', 'delete', 'rpc'];
const METHODS = ['GET', 'HEAD', 'POST', 'PATCH', 'PUT', 'DELETE'];
const RESULTS = ['many', 'single', 'maybeSingle', 'text', 'json'];
const COUNTS = ['exact', 'planned', 'estimated'];

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isStringPair = (pair: unknown) => Array.isArray(pair) && pair.length === 2 && typeof pair[0] === 'string' && typeof pair[1] === 'string';

/** Why `value` is not a `PostgrestRequest`, or null when it is one. */
export function explainNotRequest(value: unknown): string | null {
  if (!isObject(value)) return `expected a PostgrestRequest or a builder, got ${describeValue(value)}`;
  if (typeof value.then === 'function') return 'got a Promise (or other thenable); pass the builder or its toRequest(), not a pending result';
  if (!ACTIONS.includes(value.action as string)) return `request.action must be one of ${ACTIONS.join(', ')}, got ${describeValue(value.action)}`;
  if (!METHODS.includes(value.method as string)) return `request.method must be one of ${METHODS.join(', ')}, got ${describeValue(value.method)}`;
  if (typeof value.relation !== 'string' || value.relation === '') return `request.relation must be a non-empty string, got ${describeValue(value.relation)}`;
  if (value.schema !== undefined && (typeof value.schema !== 'string' || value.schema === '')) {
    return `request.schema must be a non-empty string when set, got ${describeValue(value.schema)}`;
  }
  if (!Array.isArray(value.query) || !value.query.every(isStringPair)) return 'request.query must be an array of [string, string] pairs';
  if (!isObject(value.headers) || !Object.values(value.headers).every((v) => typeof v === 'string')) {
    return 'request.headers must be an object of string values';
  }
  for (const [name, header] of Object.entries(value.headers)) {
    if (!isHeaderName(name)) return `request.headers: ${JSON.stringify(name)} is not a valid header name`;
    const problem = explainHeaderValue(header);
    if (problem !== null) return `request.headers.${name}: ${problem}`;
  }
  if (!RESULTS.includes(value.result as string)) return `request.result must be one of ${RESULTS.join(', ')}, got ${describeValue(value.result)}`;
  if (value.count !== undefined && !COUNTS.includes(value.count as string)) {
    return `request.count must be one of ${COUNTS.join(', ')} when set, got ${describeValue(value.count)}`;
  }
  if (value.optimistic !== undefined) {
    const problem = explainOptimistic(value.optimistic, value.action as string);
    if (problem !== null) return problem;
  }
  return null;
}

const WRITES = ['insert', 'update', 'upsert', 'delete'];
const CONFLICT_COLUMN = /^[^\s,.()"]+$/;

/**
 * Why `options` are no `optimistic` options of a request doing `action`; null when they are.
 * `where`: how the message names them (`request.optimistic`, or `optimistic()` for the builder).
 */
export function explainOptimistic(options: unknown, action: string, where = 'request.optimistic'): string | null {
  const field = (name: string) => (where.endsWith(')') ? `${where}: ${name}` : `${where}.${name}`);
  if (!WRITES.includes(action)) return `${where} is for writes (insert, update, upsert, delete), not ${action}`;
  if (!isObject(options)) return `${where} takes an options object, got ${describeValue(options)}`;
  const unknown = Object.keys(options).filter((key) => key !== 'conflict');
  if (unknown.length > 0) return `${where} has an unknown option ${JSON.stringify(unknown[0])} (known: conflict)`;
  if (options.conflict === undefined) return null;
  if (action !== 'update' && action !== 'delete') return `${field('conflict')} is for update and delete (sent only if the row still has the value seen), not ${action}`;
  if (!isObject(options.conflict)) return `${field('conflict')} must be an object { column, strategy? }, got ${describeValue(options.conflict)}`;
  const { column, strategy } = options.conflict;
  const extra = Object.keys(options.conflict).filter((key) => key !== 'column' && key !== 'strategy');
  if (extra.length > 0) return `${field('conflict')} has an unknown option ${JSON.stringify(extra[0])} (known: column, strategy)`;
  if (typeof column !== 'string' || !CONFLICT_COLUMN.test(column)) return `${field('conflict.column')} must be a column name, got ${describeValue(column)}`;
  if (strategy !== undefined && (typeof strategy !== 'string' || strategy === '')) {
    return `${field('conflict.strategy')} must be 'server-wins', 'client-wins', 'merge' or the name of a registered resolver, got ${describeValue(strategy)}`;
  }
  return null;
}

/** True when `value` has the shape of a `PostgrestRequest`. */
export function isPostgrestRequest(value: unknown): value is PostgrestRequest {
  return explainNotRequest(value) === null;
}

/** The request of a builder, or a validated copy of a request; throws naming the problem otherwise. */
export function toPostgrestRequest(value: PostgrestRequestLike): PostgrestRequest {
  const candidate: unknown = value;
  if (isObject(candidate) && typeof candidate.toRequest === 'function') {
    const request: unknown = (candidate as { toRequest(): unknown }).toRequest();
    const problem = explainNotRequest(request);
    if (problem !== null) throw new PostgrestBuilderError('NOT_A_REQUEST', `toRequest() returned an invalid request: ${problem}`);
    return request as PostgrestRequest;
  }
  const problem = explainNotRequest(candidate);
  if (problem !== null) throw new PostgrestBuilderError('NOT_A_REQUEST', problem);
  return structuredClone(candidate as PostgrestRequest);
}
