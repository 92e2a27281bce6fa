/** What the CLI shows after start: the relations PostgREST exposes and one working request. */

const ROWS_SHOWN = 3;

/** Tables and views PostgREST lists in its OpenAPI root (`GET /`), in its order. */
export async function listRelations(postgrestUrl: string, token: string): Promise<string[]> {
  const response = await fetch(`${postgrestUrl}/`, { headers: { Authorization: `Bearer ${token}`, Accept: 'application/openapi+json' } });
  if (!response.ok) throw new Error(`GET / answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
  const spec = (await response.json()) as { paths?: Record<string, unknown> };
  return Object.keys(spec.paths ?? {})
    .filter((route) => route !== '/' && !route.startsWith('/rpc/'))
    .map((route) => route.slice(1));
}

export interface ExampleResult {
  curl: string;
  status: number;
  statusText: string;
  /** The first rows, or the error body. */
  lines: string[];
}

/** Runs `GET /<relation>?limit=3` with `token` and returns the equivalent curl command and the answer. */
export async function runExample(postgrestUrl: string, relation: string, token: string): Promise<ExampleResult> {
  const url = `${postgrestUrl}/${encodeURIComponent(relation)}?limit=${ROWS_SHOWN}`;
  const curl = `curl '${url}' -H 'Authorization: Bearer ${token}'`;
  const response = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
  const body = await response.text();
  let lines: string[];
  try {
    const parsed: unknown = JSON.parse(body);
    lines = Array.isArray(parsed) ? (parsed.length ? parsed.map((row) => JSON.stringify(row)) : ['[] (no rows visible to this role)']) : [JSON.stringify(parsed)];
  } catch {
    lines = [body.slice(0, 500)];
  }
  return { curl, status: response.status, statusText: response.statusText, lines };
}
