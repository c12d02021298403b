// What every part of the gap report shares: how many samples it shows, when it estimates, and its sampling queries.
import type { Session } from './db/session';
import { quoteQualified as qq } from './db/sql';
import type { GapSample } from './gaps';
import type { TableModel } from './model';

export const SAMPLE = 5;
/** Tables this large are sampled in a quick preview: counting them exactly takes seconds. */
export const ESTIMATE_ABOVE_ROWS = 200_000;
/** The first answer (GapOptions.firstAnswer) counts only tables up to this size exactly: it must come within 0.5 s. */
export const FIRST_ANSWER_EXACT_UP_TO_ROWS = 50_000;
/** Rows a quick preview samples from a large table. */
export const SAMPLE_ROWS = 20_000;

/** The first few keys (in key order) of a set that may be large: a top-N sort, never the whole set in memory. */
export async function firstRows(
  session: Session,
  from: string,
  keyExpr: string,
  detailExpr = 'NULL',
): Promise<GapSample[]> {
  const { rows } = await session.query<GapSample>(
    `SELECT ${keyExpr}::text AS key, ${detailExpr}::text AS detail ${from} ORDER BY ${keyExpr} LIMIT ${SAMPLE}`,
  );
  return rows.map((r) => (r.detail == null ? { key: r.key } : r));
}

/** Rows per table from its statistics (a partitioned table's: its leaf partitions' summed); -1 when it was never analyzed. */
export async function estimatedRows(session: Session, t: TableModel): Promise<number> {
  const { rows } = await session.query<{ n: number }>(
    `SELECT CASE WHEN c.relkind = 'p' THEN (SELECT coalesce(sum(greatest(l.reltuples, 0)), 0) FROM pg_partition_tree(c.oid) p JOIN pg_class l ON l.oid = p.relid WHERE p.isleaf)
                 ELSE c.reltuples END::float8 AS n FROM pg_class c WHERE c.oid = $1::regclass`,
    [qq(t.name)],
  );
  return rows[0]!.n;
}

/** What "large" means: the caller's figure, else the first answer's or the quick preview's. */
export const estimateAbove = (options: { estimateAboveRows?: number; firstAnswer?: boolean }): number =>
  options.estimateAboveRows ?? (options.firstAnswer ? FIRST_ANSWER_EXACT_UP_TO_ROWS : ESTIMATE_ABOVE_ROWS);
