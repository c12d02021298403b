// The statements of the enforce step and of its undo: the isolation policy switched between transition and
// enforced, FORCE on (or back to what the table had before the migration).
import { quoteIdent as qi, quoteQualified as qq } from '../../db/sql';
import type { MigrationModel } from '../../model';
import { ISOLATION_POLICY } from '../../names';
import { isolationPredicate, type IsolationMode } from '../isolation-policy';
import { rlsTablesOf } from './partitions';

/** Each table and each of its partitions (a query naming a partition is held by the partition's policies). */
export function isolationStatements(
  m: MigrationModel,
  mode: IsolationMode,
  forcedBefore: (table: { schema: string; name: string }) => boolean,
  include: (table: { schema: string; name: string }) => boolean = () => true,
): string[] {
  return m.tables
    .flatMap(rlsTablesOf)
    .filter(include)
    .flatMap((name) => {
      const table = qq(name);
      const predicate = isolationPredicate(m, m.orgColumn, mode);
      const force = mode === 'enforced' || forcedBefore(name) ? 'FORCE' : 'NO FORCE';
      return [
        `ALTER POLICY ${qi(ISOLATION_POLICY)} ON ${table} USING ${predicate} WITH CHECK ${predicate}`,
        `ALTER TABLE ${table} ${force} ROW LEVEL SECURITY`,
      ];
    });
}
