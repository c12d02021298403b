// Runs one cell of the matrix as a real application role, inside a savepoint that is rolled back.
import type { Session } from '../db/session';
import { quoteIdent as qi } from '../db/sql';
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
    const err = e as { message?: string; code?: string };
    return { rows: 0, error: err.message, code: err.code };
  } finally {
    await session.query('ROLLBACK TO SAVEPOINT probe');
  }
}
