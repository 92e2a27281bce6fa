/**
 * What a change event needs to know about a table, built from pgoutput's Relation message plus the
 * catalog: column type names, converters to JSON, replica identity columns and the primary key.
 *
 * Relation messages carry type OIDs only, so each OID is looked up in pg_type once (cached for the
 * stream's life; OIDs are stable, only a composite type's attributes could change under us):
 * - columns[].type is the declared type's typname, as Supabase lists it (a domain or enum keeps
 *   its own name: realtime-js converts by that name, and leaves names it does not know alone);
 * - the JSON conversion uses the base type: domains → their base type, arrays → `_` + element,
 *   enums → text, composites → an object of their attributes (converted by their own types, as
 *   to_json does), ranges and other types → their text.
 *
 * The primary key: with REPLICA IDENTITY DEFAULT, pgoutput flags exactly the primary key columns
 * (read from the log, no lookup). With FULL every column is flagged, with USING INDEX the index's
 * columns, with NOTHING none, so then the key is read from pg_index.
 */
import type pg from 'pg';
import { converterFor, type CompositeAttribute, type PgValueConverter } from './pgValues.js';
import type { PgoutputMessage, ReplicaIdentity } from './pgoutput.js';
import type { ChangeColumn } from './types.js';

type RelationMessage = Extract<PgoutputMessage, { tag: 'relation' }>;

/** A published table as change events need it; immutable, replaced on each Relation message. */
export interface RelationShape {
  oid: number;
  schema: string;
  table: string;
  replicaIdentity: ReplicaIdentity;
  columns: readonly ChangeColumn[];
  names: readonly string[];
  converters: readonly PgValueConverter[];
  /** Per column: part of the replica identity (what a 'K' tuple carries, and old_record's key). */
  isIdentity: readonly boolean[];
  primaryKey: readonly string[];
  /** A column named `__proto__` needs defineProperty to stay an own key of a record. */
  hasProtoColumn: boolean;
  /**
   * Column names an object inherits (`constructor`, `toString` ...): a row lacking such a column
   * (an unchanged TOASTed value, an old row's non-key columns) gets it as an own `undefined`, so
   * `row[name]` says "not in the change" instead of handing out Object.prototype's function.
   */
  inheritedNames: readonly string[];
}

interface TypeRow {
  typname: string;
  typtype: string;
  base: number;
  elem: number;
  isArray: boolean;
  /** A composite's attributes: [name, type OID] in order. */
  attributes: Array<[string, number]> | null;
}

const TYPE_QUERY = `
  select t.oid, t.typname, t.typtype, t.typbasetype as base, t.typelem as elem,
         (t.typelem <> 0 and e.typarray = t.oid) as "isArray",
         case when t.typtype = 'c' then (
           select coalesce(json_agg(json_build_array(a.attname, a.atttypid::int8) order by a.attnum), '[]')
             from pg_attribute a where a.attrelid = t.typrelid and a.attnum > 0 and not a.attisdropped
         ) end as attributes
    from pg_type t left join pg_type e on e.oid = t.typelem
   where t.oid = any($1::oid[])`;

const PRIMARY_KEY_QUERY = `
  select exists (select 1 from pg_class where oid = $1) as found, a.attname
    from (select 1) one
    left join pg_index i on i.indrelid = $1 and i.indisprimary
    left join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
   order by a.attnum`;

/** Waits before asking the catalog again for objects a just-streamed transaction created. */
const CATALOG_RETRY_DELAYS_MS = [5, 20, 50, 100, 250];
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A type missing from pg_type (dropped since the change was logged): its values stay text. */
const UNKNOWN_TYPE: TypeRow = { typname: 'unknown', typtype: 'b', base: 0, elem: 0, isArray: false, attributes: null };

/** Nesting beyond this (domains of arrays of composites of ...) is surely a cycle we failed to see. */
const MAX_TYPE_DEPTH = 32;

/** Resolves Relation messages into RelationShapes, querying the catalog through `pool` when needed. */
export class RelationCatalog {
  private readonly types = new Map<number, TypeRow>();
  private readonly jsonTypnames = new Map<number, string>();
  private readonly composites = new Map<string, CompositeAttribute[]>();
  private readonly converterOptions = { composite: (typname: string) => this.composites.get(typname) };

  constructor(private readonly pool: pg.Pool) {}

  /** The shape, synchronously when the catalog knows everything it needs (the common case). */
  describe(message: RelationMessage): RelationShape | Promise<RelationShape> {
    const needsKeyLookup = message.replicaIdentity !== 'd';
    const missing = message.columns.some((column) => !this.types.has(column.typeOid));
    if (!needsKeyLookup && !missing) return this.build(message, null);
    return (async () => {
      await this.loadTypes(message.columns.map((column) => column.typeOid));
      const primaryKey = needsKeyLookup ? await this.lookUpPrimaryKey(message.relationOid) : null;
      return this.build(message, primaryKey);
    })();
  }

  private build(message: RelationMessage, primaryKeyFromCatalog: string[] | null): RelationShape {
    const columns: ChangeColumn[] = [];
    const converters: PgValueConverter[] = [];
    for (const column of message.columns) {
      columns.push({ name: column.name, type: (this.types.get(column.typeOid) ?? UNKNOWN_TYPE).typname });
      converters.push(converterFor(this.jsonTypname(column.typeOid, 0), this.converterOptions));
    }
    const names = message.columns.map((column) => column.name);
    const isIdentity = message.columns.map((column) => column.isKey);
    // Relation messages list the columns the publication sends, so a key column could be missing
    // from them (a column list without it); the key is then what the log can tell.
    const primaryKey = primaryKeyFromCatalog ?? names.filter((_, index) => isIdentity[index]);
    return {
      oid: message.relationOid,
      schema: message.schema,
      table: message.table,
      replicaIdentity: message.replicaIdentity,
      columns,
      names,
      converters,
      isIdentity,
      primaryKey,
      hasProtoColumn: names.includes('__proto__'),
      inheritedNames: names.filter((name) => name in Object.prototype),
    };
  }

  private typeLoading: Promise<void> = Promise.resolve();

  /**
   * Loads the given type OIDs and every type they refer to. One load at a time: a concurrent load
   * would see a type another load has stored while its element or base type is still on its way,
   * and cache a wrong JSON type name for good.
   */
  private loadTypes(oids: readonly number[]): Promise<void> {
    const load = this.typeLoading.then(() => this.loadTypesNow(oids));
    this.typeLoading = load.catch(() => undefined);
    return load;
  }

  private async loadTypesNow(oids: readonly number[]): Promise<void> {
    let wanted = [...new Set(oids)].filter((oid) => !this.types.has(oid));
    for (let round = 0, retries = 0; wanted.length > 0 && round < MAX_TYPE_DEPTH; round++) {
      const { rows } = await this.pool.query<TypeRow & { oid: number }>(TYPE_QUERY, [wanted]);
      const next = new Set<number>();
      for (const row of rows) {
        this.types.set(row.oid, { typname: row.typname, typtype: row.typtype, base: row.base, elem: row.elem, isArray: row.isArray, attributes: row.attributes });
        if (row.typtype === 'd') next.add(row.base);
        if (row.isArray) next.add(row.elem);
        for (const [, attributeType] of row.attributes ?? []) next.add(attributeType);
      }
      const absent = wanted.filter((oid) => !this.types.has(oid));
      if (absent.length > 0 && retries < CATALOG_RETRY_DELAYS_MS.length) {
        // The walsender can stream a transaction a moment before its commit is visible to other
        // sessions, so a type it created may not be in pg_type yet: ask again before giving up.
        await sleep(CATALOG_RETRY_DELAYS_MS[retries++]!);
        wanted = [...absent, ...[...next].filter((oid) => !this.types.has(oid))];
        continue;
      }
      for (const oid of absent) this.types.set(oid, UNKNOWN_TYPE);
      wanted = [...next].filter((oid) => !this.types.has(oid));
    }
  }

  private async lookUpPrimaryKey(relationOid: number): Promise<string[]> {
    for (let retry = 0; ; retry++) {
      const { rows } = await this.pool.query<{ attname: string; found: boolean }>(PRIMARY_KEY_QUERY, [relationOid]);
      // No pg_class row yet: the table's creating transaction isn't visible to us yet (see loadTypesNow).
      if (rows[0]?.found === false && retry < CATALOG_RETRY_DELAYS_MS.length) {
        await sleep(CATALOG_RETRY_DELAYS_MS[retry]!);
        continue;
      }
      return rows.filter((row) => row.attname !== null).map((row) => row.attname);
    }
  }

  /** The name pgValues' converterFor knows the type's JSON form by (see the module notes). */
  private jsonTypname(oid: number, depth: number): string {
    const known = this.jsonTypnames.get(oid);
    if (known !== undefined) return known;
    const row = this.types.get(oid) ?? UNKNOWN_TYPE;
    let name: string;
    if (depth > MAX_TYPE_DEPTH) name = 'unknown';
    else if (row.typtype === 'd') name = this.jsonTypname(row.base, depth + 1);
    else if (row.typtype === 'e') name = 'text';
    else if (row.typtype === 'c' && row.attributes) {
      // A key no type name can equal (typnames have no ':' unquoted, and we never look these up by
      // user text), so two composites of the same name in different schemas stay apart.
      name = `composite:${oid}`;
      this.composites.set(
        name,
        row.attributes.map(([attributeName, attributeType]) => ({ name: attributeName, typname: this.jsonTypname(attributeType, depth + 1) })),
      );
    } else if (row.isArray) name = `_${this.jsonTypname(row.elem, depth + 1)}`;
    else name = row.typname;
    this.jsonTypnames.set(oid, name);
    return name;
  }
}
