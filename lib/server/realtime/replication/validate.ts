/** Checks createReplicationStream's options before anything connects; throws REPLICATION_BAD_OPTION naming the option. */
import { ReplicationError } from './errors.js';
import type { ReplicationStreamOptions } from './types.js';

const KNOWN = [
  'databaseUrl', 'publication', 'slotName', 'onChanges', 'onError', 'onStatus', 'timeZone', 'maxTransactionChanges', 'reconnectDelaysMs',
  'messagePrefixes', 'onMessage',
];

/** The options, checked (defaults are applied by the stream). */
export function validateStreamOptions(input: unknown): ReplicationStreamOptions {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) bad('options must be an object');
  const options = input as Record<string, unknown>;
  for (const key of Object.keys(options)) {
    if (!KNOWN.includes(key)) bad(`unknown option "${key}" (known: ${KNOWN.join(', ')})`);
  }
  if (typeof options.databaseUrl !== 'string' || options.databaseUrl === '') bad('databaseUrl must be a non-empty connection string');
  if (typeof options.publication !== 'string' || options.publication === '' || options.publication.includes('\0')) {
    bad('publication must be the non-empty name of a publication');
  }
  if (typeof options.onChanges !== 'function') bad('onChanges must be a function');
  const prefixes = options.messagePrefixes;
  if (prefixes !== undefined && !(Array.isArray(prefixes) && prefixes.every((prefix) => typeof prefix === 'string' && prefix !== '' && !prefix.includes('\0')))) {
    bad('messagePrefixes must be an array of non-empty strings');
  }
  for (const name of ['onError', 'onStatus', 'onMessage'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') bad(`${name} must be a function when given`);
  }
  if (options.timeZone !== undefined && (typeof options.timeZone !== 'string' || options.timeZone === '')) {
    bad('timeZone must be a non-empty time zone name when given');
  }
  const max = options.maxTransactionChanges;
  if (max !== undefined && !(Number.isSafeInteger(max) && (max as number) >= 1)) bad('maxTransactionChanges must be an integer >= 1');
  const delays = options.reconnectDelaysMs;
  if (
    delays !== undefined &&
    !(Array.isArray(delays) && delays.length > 0 && delays.every((delay) => typeof delay === 'number' && delay >= 0 && Number.isFinite(delay)))
  ) {
    bad('reconnectDelaysMs must be a non-empty array of delays >= 0 (ms)');
  }
  return options as unknown as ReplicationStreamOptions;
}

function bad(message: string): never {
  throw new ReplicationError('REPLICATION_BAD_OPTION', `createReplicationStream: ${message}`);
}
