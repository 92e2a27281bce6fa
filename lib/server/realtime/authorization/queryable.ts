/** What the authorization and catalog code needs of a database connection or pool. */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<unknown>;
}
