/**
 * Type-level check of a `select` column list against a typed row, so `select('id, titel')` fails to
 * compile. Only plain lists are checked: a list with an embed or aggregate (`(`), and items that are
 * paths, casts' sources aside, quoted names, spreads or `*`, pass unchecked (PostgREST checks them).
 */

type Space = ' ' | '\n' | '\t' | '\r';
type Trim<S extends string> = S extends `${Space}${infer Rest}` ? Trim<Rest> : S extends `${infer Rest}${Space}` ? Trim<Rest> : S;
type Split<S extends string> = S extends `${infer Head},${infer Tail}` ? [Head, ...Split<Tail>] : [S];

/** The column one item names (`alias:col::type` → `col`), or never when it is not a plain column. */
type ItemColumn<Item extends string> =
  Item extends '' | '*' | `...${string}` | `${string}${'.' | '->' | '"' | '!'}${string}` ? never
  : Item extends `${infer Column}::${string}` ? ItemColumn<Column>
  : Item extends `${string}:${infer Column}` ? ItemColumn<Column>
  : Item;

type UnknownColumns<Row, Items> = Items extends [infer Item extends string, ...infer Rest]
  ? Exclude<ItemColumn<Trim<Item>>, keyof Row> | UnknownColumns<Row, Rest>
  : never;

/** What a failed check asks for: the literal cannot be assigned, and the message names the columns. */
export interface UnknownSelectColumns<Columns extends string> {
  readonly 'not columns of the row': Columns;
}

/** `Columns` when every plain column it names is in `Row` (or `Row` is untyped), else an impossible type naming them. */
export type SelectColumns<Row, Columns extends string> =
  unknown extends Row ? Columns
  : string extends keyof Row ? Columns
  : string extends Columns ? Columns
  : Columns extends `${string}(${string}` ? Columns
  : [UnknownColumns<Row, Split<Columns>>] extends [never] ? Columns
  : Columns & UnknownSelectColumns<UnknownColumns<Row, Split<Columns>>>;
