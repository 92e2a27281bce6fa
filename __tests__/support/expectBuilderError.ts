import { PostgrestBuilderError } from '../../lib/postgrest';

/** Asserts `fn` throws a PostgrestBuilderError with `code` and a message matching `message`. */
export function expectBuilderError(fn: () => unknown, code: string, message: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(PostgrestBuilderError);
  expect((caught as PostgrestBuilderError).code).toBe(code);
  expect((caught as PostgrestBuilderError).message).toMatch(message);
}
