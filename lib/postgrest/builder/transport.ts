/** Validation for the builder's transport modifiers: custom headers and EXPLAIN options. */
import { PostgrestBuilderError, describeValue } from '../errors.js';
import { explainHeaderName, explainHeaderValue } from '../request/headers.js';
import { booleanOption, readOptions } from './options.js';
import type { ExplainState } from './state.js';

/** Options of `explain()`; each flag maps to PostgreSQL's EXPLAIN option of the same name. */
export interface ExplainOptions {
  /** Runs the statement (a write is then really made: combine with `rollback()`). */
  analyze?: boolean;
  verbose?: boolean;
  settings?: boolean;
  buffers?: boolean;
  wal?: boolean;
  /** `text` (default) gives the plan as a string, `json` as PostgreSQL's JSON plan (an array). */
  format?: 'json' | 'text';
}

const FLAGS = ['analyze', 'verbose', 'settings', 'buffers', 'wal'] as const;

/** `headers` with `name: value` set, replacing an earlier header of the same name in any case. */
export function withHeader(headers: ReadonlyArray<readonly [string, string]>, name: unknown, value: unknown): Array<readonly [string, string]> {
  const nameProblem = explainHeaderName(name);
  if (nameProblem !== null) throw new PostgrestBuilderError('INVALID_OPTION', `setHeader(): ${nameProblem}`);
  const valueProblem = explainHeaderValue(value);
  if (valueProblem !== null) throw new PostgrestBuilderError('INVALID_VALUE', `setHeader(${JSON.stringify(name)}): ${valueProblem}`);
  const key = (name as string).toLowerCase();
  // fetch trims values; trimming here keeps the cache key equal to what is sent.
  return [...headers.filter(([n]) => n.toLowerCase() !== key), [name as string, (value as string).trim()]];
}

/** The EXPLAIN state of `explain(options)`. */
export function explainState(options: ExplainOptions | undefined): ExplainState {
  const opts = readOptions(options, [...FLAGS, 'format'], 'explain()');
  const format = opts.format ?? 'text';
  if (format !== 'json' && format !== 'text') {
    throw new PostgrestBuilderError('INVALID_OPTION', `explain(): format must be 'json' or 'text', got ${describeValue(opts.format)}`);
  }
  return { format, options: FLAGS.filter((flag) => booleanOption(opts[flag], flag, 'explain()') === true) };
}
