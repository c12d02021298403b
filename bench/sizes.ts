// The migrated tables' size before and after a scenario (heap, TOAST and every index: pg_total_relation_size), so that
// the bloat a migration leaves behind (issue 17 target 3: at most 1.3×, the new column and index included) is shown.
import type pg from 'pg';

const TABLES = ['credentials', 'reports', 'dashboard_layouts'];

export interface TableSizes {
  readonly bytes: Record<string, number>;
  readonly total: number;
}

export async function tableSizes(client: pg.Client): Promise<TableSizes> {
  const { rows } = await client.query<{ t: string; b: string }>(
    `SELECT t, pg_total_relation_size(t::regclass)::text AS b FROM unnest($1::text[]) AS t`,
    [TABLES],
  );
  const bytes = Object.fromEntries(rows.map((r) => [r.t, Number(r.b)]));
  return { bytes, total: Object.values(bytes).reduce((a, b) => a + b, 0) };
}

/** After / before, of the three tables together and of each. */
export function sizeRatio(before: TableSizes, after: TableSizes): { total: number; byTable: Record<string, number> } {
  return {
    total: after.total / before.total,
    byTable: Object.fromEntries(TABLES.map((t) => [t, (after.bytes[t] ?? 0) / (before.bytes[t] ?? 1)])),
  };
}
