// How many rows a table has, for the plan and the progress: its statistics, or for a table never analysed
// (reltuples = -1) a count when it is small and the planner's estimate from its current size when it is not.
import type { Session } from './db/session';
import { quoteQualified, type QualifiedName } from './db/sql';

const COUNT_UP_TO_BYTES = 100 * 1024 * 1024;

export async function rowEstimate(
  session: Session,
  table: QualifiedName,
  reltuples: number,
  bytes: number,
  rowSecurity: boolean,
): Promise<number> {
  if (reltuples >= 0) return Math.round(reltuples);
  // The tool's sessions run with row_security off: reading a table whose policies would apply raises an error
  // (inside a transaction, it would abort it). Such a table gets no estimate rather than a wrong one.
  if (
    rowSecurity &&
    !(
      await session.query<{ ok: boolean }>(
        `SELECT rolsuper OR rolbypassrls AS ok FROM pg_roles WHERE rolname = current_user`,
      )
    ).rows[0]!.ok
  )
    return 0;
  if (bytes <= COUNT_UP_TO_BYTES) {
    return Number(
      (await session.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${quoteQualified(table)}`)).rows[0]!.n,
    );
  }
  const { rows } = await session.query<{ 'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }] }>(
    `EXPLAIN (FORMAT JSON) SELECT 1 FROM ${quoteQualified(table)}`,
  );
  return Math.round(rows[0]!['QUERY PLAN'][0].Plan['Plan Rows']);
}
