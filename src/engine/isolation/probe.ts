// Runs one cell of the matrix as a real application role, inside a savepoint that is rolled back.
import type { Session } from '../db/session';
import { quoteIdent as qi } from '../db/sql';
import { sqlStateOf } from '../db/pg-errors';
import type { CellResult } from './causes';

/** Runs inside verifyIsolation's transaction; everything the cell did is undone by rolling back to its savepoint. */
export async function runCell(session: Session, role: string, contextSql: string, sql: string): Promise<CellResult> {
  await session.query('SAVEPOINT probe');
  try {
    await session.query('SET LOCAL row_security = on');
    await session.query(contextSql);
    await session.query(`SET LOCAL ROLE ${qi(role)}`);
    const result = await session.query(sql);
    return { rows: result.rowCount ?? 0 };
  } catch (e) {
    return { rows: 0, error: e instanceof Error ? e.message : String(e), code: sqlStateOf(e) };
  } finally {
    await session.query('ROLLBACK TO SAVEPOINT probe');
  }
}
