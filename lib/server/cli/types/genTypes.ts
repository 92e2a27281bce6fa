/** `rtk-postgrest gen types`: reads each schema from PostgREST (`--url`) or the catalog (`--db`) and writes the `Database` type. */
import { writeFile } from 'node:fs/promises';
import type { GenTypesArgs } from '../args.js';
import type { Io } from '../dev.js';
import { CATALOG_NEEDS, unmetNeeds } from '../../stack/packages.js';
import { GenTypesError, type SchemaModel } from './model.js';
import { fetchOpenApi, schemaFromOpenApi } from './openapi.js';
import { renderDatabase } from './render.js';

/** The generated module's text for `args`; throws GenTypesError naming what failed. */
export async function generateTypes(args: GenTypesArgs): Promise<string> {
  return renderDatabase(await readSchemas(args));
}

/** The model of each of `args.schemas`, from exactly one of `args.url` and `args.db`. */
export async function readSchemas(args: GenTypesArgs): Promise<SchemaModel[]> {
  if ((args.url === undefined) === (args.db === undefined)) throw new GenTypesError('give exactly one of --url (PostgREST) and --db (PostgreSQL)');
  if (args.db !== undefined) {
    // The catalog reader imports pg, an optional peer that --url does not need.
    const unmet = unmetNeeds('--db', CATALOG_NEEDS);
    if (unmet !== undefined) throw new GenTypesError(unmet);
    return (await import('./catalog.js')).readCatalog(args.db, args.schemas);
  }
  const schemas: SchemaModel[] = [];
  for (const schema of args.schemas) schemas.push(schemaFromOpenApi(await fetchOpenApi(args.url!, schema, args.key), schema));
  return schemas;
}

/** Runs the command: the text to `--out` or stdout; exit code 0, or 1 with one line on stderr. */
export async function runGenTypes(args: GenTypesArgs, io: Io): Promise<number> {
  let text: string;
  try {
    text = await generateTypes(args);
  } catch (error) {
    if (!(error instanceof GenTypesError)) throw error;
    io.err(`rtk-postgrest: gen types: ${error.message}`);
    return 1;
  }
  if (args.out === undefined) {
    io.out(text.trimEnd());
    return 0;
  }
  try {
    await writeFile(args.out, text);
  } catch (error) {
    io.err(`rtk-postgrest: gen types: cannot write --out ${args.out}: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  io.err(`rtk-postgrest: wrote ${args.out} (${args.schemas.join(', ')})`);
  return 0;
}
