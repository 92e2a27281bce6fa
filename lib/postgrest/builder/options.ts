import { PostgrestBuilderError, describeValue } from '../errors.js';
import { assertName } from './names.js';
import type { CountMethod } from '../request/types.js';

const COUNT_METHODS: readonly CountMethod[] = ['exact', 'planned', 'estimated'];

/**
 * Reads an options object, rejecting anything but a plain object with known keys so that a typo
 * (`{ acending: false }`) fails loudly instead of being ignored.
 */
export function readOptions<T extends object>(options: T | undefined, allowed: readonly (keyof T & string)[], where: string): Partial<T> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new PostgrestBuilderError('INVALID_OPTION', `${where} options must be an object, got ${describeValue(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!(allowed as readonly string[]).includes(key)) {
      throw new PostgrestBuilderError('INVALID_OPTION', `${where}: unknown option "${key}"; expected ${allowed.join(', ')}`);
    }
  }
  return options;
}

/** Validates a `count` option. */
export function countOption(count: unknown, where: string): CountMethod | undefined {
  if (count === undefined) return undefined;
  if (!COUNT_METHODS.includes(count as CountMethod)) {
    throw new PostgrestBuilderError('INVALID_OPTION', `${where}: count must be 'exact', 'planned' or 'estimated', got ${describeValue(count)}`);
  }
  return count as CountMethod;
}

/** Validates an optional boolean option. */
export function booleanOption(value: unknown, name: string, where: string): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  throw new PostgrestBuilderError('INVALID_OPTION', `${where}: ${name} must be a boolean, got ${describeValue(value)}`);
}

/** Validates an optional schema name. */
export function schemaOption(schema: unknown, where: string): string | undefined {
  return schema === undefined ? undefined : assertName(schema, `${where} schema`);
}

/** Validates a non-negative integer option such as a limit or offset. */
export function countOfRows(value: unknown, name: string, where: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new PostgrestBuilderError('INVALID_OPTION', `${where}: ${name} must be a non-negative integer, got ${describeValue(value)}`);
  }
  return value;
}
