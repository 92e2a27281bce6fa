import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import { StackError } from './errors.js';
import { controlsTransaction, lineAtPosition, splitStatements, type SqlStatement } from './sql.js';

/** A script to apply: a migration file or the inline `sql` option. */
export interface SqlSource {
  /** Recorded in rtk_postgrest.migrations: the file name, or INLINE_SQL. */
  name: string;
  /** How errors name it: a path relative to the working directory, or "inline sql". */
  label: string;
  text: string;
  checksum: string;
}

/** Record name of the inline `sql` option; no file name can collide (files end in .sql). */
export const INLINE_SQL = '(inline sql)';

/** Reads every `*.sql` file of `dir`, in name order. */
export async function readMigrations(dir: string): Promise<SqlSource[]> {
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true })).filter((entry) => entry.isFile() && entry.name.endsWith('.sql')).map((entry) => entry.name);
  } catch (error) {
    throw new StackError('BAD_OPTION', `migrations: cannot read directory ${dir}: ${(error as Error).message}`, { cause: error });
  }
  names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return Promise.all(
    names.map(async (name) => {
      const file = path.join(dir, name);
      return source(name, displayPath(file), await readFile(file, 'utf8'));
    }),
  );
}

/** The inline `sql` option as a source. */
export function inlineSource(text: string, label = 'inline sql'): SqlSource {
  return source(INLINE_SQL, label, text);
}

/**
 * Applies what has not been applied yet: each migration file once per data dir (by name), then the
 * inline SQL once per data dir, each in its own transaction. Throws SQL_FAILED naming file:line.
 */
export async function applySources(client: pg.Client, sources: readonly SqlSource[], log: (line: string) => void): Promise<string[]> {
  const { rows } = await client.query<{ name: string; checksum: string }>('select name, checksum from rtk_postgrest.migrations');
  const applied = new Map(rows.map((row) => [row.name, row.checksum]));
  const appliedNow: string[] = [];
  for (const sql of sources) {
    const previous = applied.get(sql.name);
    if (previous !== undefined) {
      if (previous !== sql.checksum) log(`[migrations] ${sql.label} changed since it was applied; applied scripts are not re-run`);
      continue;
    }
    await applyOne(client, sql);
    appliedNow.push(sql.label);
    log(`[migrations] applied ${sql.label}`);
  }
  return appliedNow;
}

async function applyOne(client: pg.Client, sql: SqlSource): Promise<void> {
  await client.query('begin');
  try {
    await client.query(sql.text);
    await client.query('insert into rtk_postgrest.migrations (name, checksum) values ($1, $2)', [sql.name, sql.checksum]);
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    if (!isDatabaseError(error)) throw error;
    const line = error.position ? lineAtPosition(sql.text, Number(error.position)) : await locateByStatement(client, sql.text, error);
    throw new StackError('SQL_FAILED', describe(sql.label, line, error), {
      sql: line === undefined ? { file: sql.label } : { file: sql.label, line },
      sqlState: error.code,
      cause: error,
    });
  }
}

/**
 * PostgreSQL gave no position (a constraint violation, a RAISE ...): re-run the script statement by
 * statement inside a transaction we roll back, and trust the line only if the same error recurs.
 */
async function locateByStatement(client: pg.Client, text: string, original: pg.DatabaseError): Promise<number | undefined> {
  const statements = splitStatements(text);
  if (statements.some(controlsTransaction)) return undefined;
  await client.query('begin');
  try {
    for (const statement of statements) {
      try {
        await client.query(statement.text);
      } catch (error) {
        if (!isDatabaseError(error) || error.code !== original.code || error.message !== original.message) return undefined;
        return error.position ? lineWithin(statement, Number(error.position)) : statement.line;
      }
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    await client.query('rollback').catch(() => undefined);
  }
}

function lineWithin(statement: SqlStatement, position: number): number {
  return statement.startLine + lineAtPosition(statement.text, position) - 1;
}

/** `file:line: message (detail) (hint)`: one line, as compilers print errors. */
function describe(label: string, line: number | undefined, error: pg.DatabaseError): string {
  const where = line === undefined ? label : `${label}:${line}`;
  const extra = [error.detail && `DETAIL: ${error.detail}`, error.hint && `HINT: ${error.hint}`].filter(Boolean).map((text) => ` (${text})`);
  return `${where}: ${error.message}${extra.join('')}`;
}

function isDatabaseError(error: unknown): error is pg.DatabaseError {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'string' && 'severity' in error;
}

function source(name: string, label: string, text: string): SqlSource {
  return { name, label, text, checksum: createHash('sha256').update(text).digest('hex') };
}

/** A path as the user would type it: relative to the working directory when inside it. */
export function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}
