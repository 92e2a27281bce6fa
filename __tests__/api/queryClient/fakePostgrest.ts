/** An in-memory stand-in for PostgREST, for the query client's unit tests (one table, `posts`). */
export interface FakePost {
  id: number;
  title: string;
}

export function fakePostgrest(initial: FakePost[] = [{ id: 1, title: 'one' }, { id: 2, title: 'two' }]) {
  const rows = initial.map((row) => ({ ...row }));
  const requests: string[] = [];
  let failNext: number | undefined;
  let hold: Promise<void> | undefined;
  const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input as RequestInfo, init);
    const url = new URL(request.url);
    requests.push(`${request.method} ${url.pathname}${url.search}`);
    if (hold) await hold;
    if (request.signal.aborted) throw new DOMException('aborted', 'AbortError');
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
      new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
    if (failNext !== undefined) {
      const status = failNext;
      failNext = undefined;
      return json(status, { code: status === 400 ? '22P02' : null, message: `failed with ${status}`, details: null, hint: null });
    }
    const id = url.searchParams.get('id');
    const single = (request.headers.get('accept') ?? '').includes('vnd.pgrst.object');
    const match = (row: FakePost) => (id === null ? true : `eq.${row.id}` === id);
    if (request.method === 'GET') {
      const columns = (url.searchParams.get('select') ?? '*').split(',');
      const found = rows.filter(match).map((row) => (columns.includes('*') ? { ...row } : Object.fromEntries(columns.map((c) => [c, row[c as keyof FakePost]]))));
      return single ? json(200, found[0]) : json(200, found, { 'content-range': `0-${found.length - 1}/*` });
    }
    if (request.method === 'POST') {
      const body = (await request.json()) as Partial<FakePost> | Array<Partial<FakePost>>;
      const made = (Array.isArray(body) ? body : [body]).map((row) => ({ id: rows.length + 1, title: '', ...row }) as FakePost);
      rows.push(...made);
      return json(201, single ? made[0] : made);
    }
    if (request.method === 'PATCH') {
      const body = (await request.json()) as Partial<FakePost>;
      const changed = rows.filter(match).map((row) => Object.assign(row, body));
      return json(200, single ? changed[0] : changed);
    }
    return json(405, { message: 'no' });
  }) as typeof fetch;
  return {
    fetchFn,
    rows,
    requests,
    /** The next request answers `status` with an error body. */
    failNext(status: number) {
      failNext = status;
    },
    /** Requests wait until the returned function is called. */
    hold(): () => void {
      let release!: () => void;
      hold = new Promise((resolve) => (release = resolve));
      return () => {
        hold = undefined;
        release();
      };
    },
  };
}
