/** The client benchmarks' table: `entries` groups of `rowsPerEntry` rows with random scores (one live entry per group). */
export type Row = { id: number; grp: number; score: number; title: string };

/** A fresh table, ids from 1, scores drawn from `random`; and the next free id. */
export function groupedTable(entries: number, rowsPerEntry: number, random: () => number): { table: Map<number, Row>; nextId: number } {
  const table = new Map<number, Row>();
  let nextId = 1;
  for (let group = 0; group < entries; group++) {
    for (let i = 0; i < rowsPerEntry; i++) {
      const id = nextId++;
      table.set(id, { id, grp: group, score: Math.floor(random() * 1_000_000), title: `row ${id}` });
    }
  }
  return { table, nextId };
}
