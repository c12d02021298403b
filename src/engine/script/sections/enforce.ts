// The statements of the enforce step and of its undo: the isolation policy switched between transition and
// enforced, FORCE on (or back to what the table had before the migration).
import { quoteIdent as qi, quoteQualified as qq } from '../../db/sql';
import type { MigrationModel } from '../../model';
import { ISOLATION_POLICY } from '../../names';
import { isolationPredicate, type IsolationMode } from '../isolation-policy';

export function isolationStatements(m: MigrationModel, mode: IsolationMode, forcedBefore: (table: { schema: string; name: string }) => boolean): string[] {
  return m.tables.flatMap((t) => {
    const table = qq(t.name);
    const predicate = isolationPredicate(m, m.orgColumn, mode);
    const force = mode === 'enforced' || forcedBefore(t.name) ? 'FORCE' : 'NO FORCE';
    return [
      `ALTER POLICY ${qi(ISOLATION_POLICY)} ON ${table} USING ${predicate} WITH CHECK ${predicate}`,
      `ALTER TABLE ${table} ${force} ROW LEVEL SECURITY`,
    ];
  });
}
