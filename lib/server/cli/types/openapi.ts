/** `gen types --url`: a schema model from PostgREST's OpenAPI document (`GET /`, Swagger 2.0). */
import { byName, GenTypesError, tsTypeOf, type ColumnModel, type FunctionModel, type RelationModel, type SchemaModel } from './model.js';

interface OpenApiProperty {
  format?: string;
  type?: string;
  enum?: string[];
  default?: unknown;
  description?: string;
  items?: OpenApiProperty;
}

interface OpenApiDefinition {
  properties?: Record<string, OpenApiProperty>;
  required?: string[];
}

interface OpenApiDocument {
  swagger?: string;
  paths?: Record<string, Record<string, { parameters?: Array<{ in?: string; name?: string; schema?: OpenApiDefinition }> }>>;
  definitions?: Record<string, OpenApiDefinition>;
}

/** Reads the OpenAPI document PostgREST serves for `schema` (via Accept-Profile) with `key` as the bearer token. */
export async function fetchOpenApi(postgrestUrl: string, schema: string, key: string | undefined): Promise<OpenApiDocument> {
  let url: URL;
  try {
    url = new URL(postgrestUrl.endsWith('/') ? postgrestUrl : `${postgrestUrl}/`);
  } catch {
    throw new GenTypesError(`--url ${JSON.stringify(postgrestUrl)} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new GenTypesError(`--url must be an http(s) URL, got ${postgrestUrl}`);
  const headers: Record<string, string> = { Accept: 'application/openapi+json', 'Accept-Profile': schema };
  if (key !== undefined) Object.assign(headers, { Authorization: `Bearer ${key}`, apikey: key });
  let response: Response;
  try {
    response = await fetch(url, { headers, signal: AbortSignal.timeout(15_000) });
  } catch (error) {
    const cause = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
    throw new GenTypesError(`cannot reach PostgREST at ${url.href}: ${cause}`);
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new GenTypesError(`${url.href} answered ${response.status} with something that is not JSON (is it PostgREST?): ${text.slice(0, 200)}`);
  }
  if (!response.ok) {
    const { code, message } = (body ?? {}) as { code?: string; message?: string };
    if (code === 'PGRST106') throw new GenTypesError(`schema "${schema}" is not exposed by this PostgREST (${message ?? code})`);
    throw new GenTypesError(`${url.href} answered ${response.status}${code ? ` ${code}` : ''}: ${message ?? text.slice(0, 200)}`);
  }
  const doc = body as OpenApiDocument;
  if (typeof doc !== 'object' || doc === null || doc.swagger === undefined || typeof doc.paths !== 'object') {
    throw new GenTypesError(`${url.href} did not answer with an OpenAPI document (is openapi-mode disabled?)`);
  }
  return doc;
}

/**
 * The schema as the OpenAPI document describes it. What it cannot tell, and how that is read:
 * nullability is "not in `required`"; an identity column shows no default, so an integer primary key
 * without one is taken as generated (optional on insert); relations with POST are Tables, the rest
 * Views (an auto-updatable view is a Table here); functions' results are `unknown`. `--db` knows all.
 */
export function schemaFromOpenApi(doc: OpenApiDocument, schema: string): SchemaModel {
  const enums = new Map<string, string[]>();
  for (const definition of Object.values(doc.definitions ?? {})) {
    for (const property of Object.values(definition.properties ?? {})) {
      for (const p of [property, property.items]) {
        if (p?.enum && p.format) enums.set(p.format.replace(/\[\]$/, '').replace(/^.*\./, ''), p.enum);
      }
    }
  }
  const tables: RelationModel[] = [];
  const views: RelationModel[] = [];
  const functions: FunctionModel[] = [];
  for (const [route, operations] of Object.entries(doc.paths ?? {})) {
    if (route === '/') continue;
    if (route.startsWith('/rpc/')) {
      const body = (operations.post ?? operations.get)?.parameters?.find((p) => p.in === 'body')?.schema;
      const required = new Set(body?.required ?? []);
      const args = Object.entries(body?.properties ?? {}).map(([name, p]) => ({ name, type: propertyType(p, enums), optional: !required.has(name) }));
      functions.push({ name: route.slice('/rpc/'.length), args, returns: 'unknown' });
      continue;
    }
    const name = route.slice(1);
    const definition = doc.definitions?.[name];
    if (!definition) continue;
    (operations.post ? tables : views).push({ name, columns: columnsOf(definition, enums) });
  }
  return { schema, tables: tables.sort(byName), views: views.sort(byName), functions: functions.sort(byName), enums };
}

function columnsOf(definition: OpenApiDefinition, enums: ReadonlyMap<string, readonly string[]>): ColumnModel[] {
  const required = new Set(definition.required ?? []);
  return Object.entries(definition.properties ?? {}).map(([name, p]) => {
    const nullable = !required.has(name);
    const type = propertyType(p, enums);
    const primaryKey = p.description?.includes('<pk/>') ?? false;
    const generated = primaryKey && type === 'number' && p.default === undefined;
    return { name, type, nullable, optionalOnInsert: nullable || p.default !== undefined || generated };
  });
}

function propertyType(p: OpenApiProperty, enums: ReadonlyMap<string, readonly string[]>): string {
  if (p.enum) return p.enum.length ? p.enum.map((label) => JSON.stringify(label)).join(' | ') : 'never';
  if (p.format) return tsTypeOf(p.format, enums);
  // Without a format: the JSON schema type (json/jsonb columns come without one).
  if (p.type === 'array') return `${p.items ? propertyType(p.items, enums) : 'Json'}[]`;
  if (p.type === 'integer' || p.type === 'number') return 'number';
  if (p.type === 'string') return 'string';
  if (p.type === 'boolean') return 'boolean';
  return 'Json';
}
