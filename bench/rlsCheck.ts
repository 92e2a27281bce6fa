/**
 * What judging a change "as of the change" costs PostgreSQL, against the check it replaced, in one
 * run on one database. Both run through the same machinery (runGroupChecks: one prelude per
 * subscriber group setting role and claims, statements prepared once per pooled session, the groups
 * spread over 4 sessions as the server does); only the check statement differs:
 *
 * - `currentRow` (the old check, kept here only as a baseline): probe the table by key under RLS,
 *   so the policies judge the row as it is when the check runs (issue 9's finding 1);
 * - `asOfChange` (the server's now): the policies applied to the values the change carries.
 *
 * Policies: the realtime bench's `owner = sub`, and a membership subquery (`exists (select from
 * members ...)`), which both checks evaluate per row. Batches of rows that exist in a 100,000-row
 * table (so the baseline finds them), 50 groups. Also the whole `checkBatch` (catalog facts read
 * every batch, as the server does). Prints JSON and writes bench/results/rls-check.json.
 *
 *   npm run bench:rls-check        (env: ROUNDS=40 GROUPS=50 TABLE_ROWS=100000)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { escapeIdentifier, escapeLiteral } from 'pg';
import { canonicalJson, createVisibilityChecker, subscriberGroupKey, type RowText, type SubscriberGroup } from '../lib/server/realtime/authorization/index.js';
import { textArrayLiteral, rowCheck, type RowCheck } from '../lib/server/realtime/authorization/checkSql.js';
import { runGroupChecks, type CheckedGroup } from '../lib/server/realtime/authorization/groupChecks.js';
import { createLimiter } from '../lib/server/realtime/authorization/limiter.js';
import { loadPolicySet } from '../lib/server/realtime/authorization/policies.js';
import { startStack } from '../lib/server/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROUNDS = Number(process.env.ROUNDS ?? 40);
const GROUPS = Number(process.env.GROUPS ?? 50);
const TABLE_ROWS = Number(process.env.TABLE_ROWS ?? 100_000);
const BATCHES = [50, 500];
const SESSIONS = 4;

const uuid = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

const SQL = `
  create table bench_owned (id int8 primary key, owner uuid not null, team int4 not null, body text);
  create table bench_members (team int4, member uuid, primary key (team, member));
  create table bench_team (id int8 primary key, owner uuid not null, team int4 not null, body text);
  insert into bench_owned select g, ('00000000-0000-4000-8000-' || lpad(to_hex(g % ${GROUPS}), 12, '0'))::uuid, g % 200, 'body ' || g from generate_series(1, ${TABLE_ROWS}) g;
  insert into bench_team select * from bench_owned;
  insert into bench_members select t, ('00000000-0000-4000-8000-' || lpad(to_hex(m), 12, '0'))::uuid from generate_series(0, 199) t, generate_series(0, ${GROUPS - 1}) m where (t + m) % 10 = 0;
  alter table bench_owned enable row level security;
  alter table bench_team enable row level security;
  create policy own on bench_owned for select using (owner = (current_setting('request.jwt.claims', true)::jsonb ->> 'sub')::uuid);
  create policy team on bench_team for select using (exists (select from public.bench_members m where m.team = bench_team.team
    and m.member = (current_setting('request.jwt.claims', true)::jsonb ->> 'sub')::uuid));
  grant select on bench_owned, bench_team, bench_members to authenticated;
  analyze;
`;

interface Measured {
  medianMs: number;
  p90Ms: number;
}

function summarize(samples: number[]): Measured {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { medianMs: Math.round(at(0.5) * 100) / 100, p90Ms: Math.round(at(0.9) * 100) / 100 };
}

/** The old check: probe the table by key under RLS (the row as it is now). */
function currentRowCheck(table: string, ids: readonly string[]): RowCheck {
  const body = (arg: string) =>
    `select (k.ord operator(pg_catalog.-) 1)::pg_catalog.int4 as i from rows from (pg_catalog.unnest(${arg})) with ordinality as k(k0, ord)` +
    ` where (select true from public.${escapeIdentifier(table)} t where t.id = k.k0 limit 1)`;
  const literal = `${escapeLiteral(textArrayLiteral(ids))}::pg_catalog.int8[]`;
  return { definition: `(pg_catalog.int8[]) as ${body('$1')}`, literal: body(literal), arguments: escapeLiteral(textArrayLiteral(ids)) };
}

async function main() {
  const stack = await startStack({ sql: SQL });
  const pool = new pg.Pool({ connectionString: stack.databaseUrl, max: SESSIONS });
  const results: Record<string, unknown> = {};
  try {
    const groups: SubscriberGroup[] = Array.from({ length: GROUPS }, (_, index) => {
      const claims = { role: 'authenticated', sub: uuid(index), exp: 2_000_000_000 };
      return { groupKey: subscriberGroupKey(claims), role: 'authenticated', claims };
    });
    const limiter = createLimiter(SESSIONS);
    const checker = createVisibilityChecker({ pool, cacheTtlMs: 0, maxConcurrentQueries: SESSIONS });
    for (const table of ['bench_owned', 'bench_team']) {
      const oid = (await pool.query<{ oid: string }>(`select $1::regclass::oid::text as oid`, [`public.${table}`])).rows[0]!.oid;
      const set = await loadPolicySet(pool, oid, 'public', table);
      const policy = [...set.policies.values()][0]!;
      const columns = policy.attnums.map((attnum) => set.columns.get(attnum)!);
      const info = { schema: 'public', name: table, oid, rlsEnabled: true, columns: [], policyFingerprint: '' };
      for (const size of BATCHES) {
        const samples: Record<string, number[]> = { currentRow: [], asOfChange: [], checkBatch: [] };
        let agree = true;
        for (let round = 0; round < ROUNDS; round++) {
          const start = 1 + ((round * size * 7919) % (TABLE_ROWS - size));
          const { rows } = await pool.query<Record<string, string>>(
            `select id::text, owner::text, team::text, body from public.${table} where id >= $1 order by id limit $2`, [start, size]);
          const ids = rows.map((row) => row.id!);
          const checks: Record<string, RowCheck> = {
            currentRow: currentRowCheck(table, ids),
            asOfChange: rowCheck(info, columns, `(${policy.qual})`, rows.map((_, index) => index), columns.map((column) => rows.map((row) => row[column.name] ?? null))),
          };
          const answers: Record<string, string> = {};
          // Alternate which goes first, so neither always meets warmer caches.
          const order = round % 2 === 0 ? ['currentRow', 'asOfChange'] : ['asOfChange', 'currentRow'];
          for (const name of order) {
            const checked: CheckedGroup[] = groups.map((group) => ({ ...group, claimsJson: canonicalJson(group.claims), check: checks[name]! }));
            const began = performance.now();
            const result = await runGroupChecks({ db: pool, sessions: pool, limiter, groups: checked, statementTimeoutMs: 5000, searchPath: 'public', maxMessages: SESSIONS, isolated: new Map(), isolateForMs: 0 });
            samples[name]!.push(performance.now() - began);
            answers[name] = JSON.stringify(groups.map((group) => [...((result.get(group.groupKey) as number[] | undefined) ?? [])].sort((a, b) => a - b)));
          }
          agree &&= answers.currentRow === answers.asOfChange;
          const began = performance.now();
          await checker.checkBatch({ schema: 'public', name: table, primaryKey: ['id'] }, groups, rows as RowText[], ['authenticated']);
          samples.checkBatch!.push(performance.now() - began);
        }
        const currentRow = summarize(samples.currentRow!);
        const asOfChange = summarize(samples.asOfChange!);
        results[`${table}/${size} rows`] = {
          currentRow,
          asOfChange,
          checkBatchWithCatalog: summarize(samples.checkBatch!),
          asOfChangeOverCurrentRow: Math.round((asOfChange.medianMs / currentRow.medianMs) * 100) / 100,
          // The rows are unchanged in the table, so both checks must give the same answers.
          sameAnswers: agree,
        };
      }
    }
  } finally {
    await pool.end();
    await stack.stop();
  }
  const output = {
    benchmark: 'rls-check',
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, node: process.version },
    setup: { groups: GROUPS, tableRows: TABLE_ROWS, rounds: ROUNDS, sessions: SESSIONS, batches: BATCHES },
    results,
  };
  const json = JSON.stringify(output, null, 2);
  console.log(json);
  mkdirSync(path.join(here, 'results'), { recursive: true });
  writeFileSync(path.join(here, 'results', 'rls-check.json'), `${json}\n`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
