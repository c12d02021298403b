// Rollback of an org column that was there before the migration: kept, with what the migration added undone —
// its constraint, its index, NOT NULL, and the values it filled into rows that were empty (found in the backup).
import type { Session } from './db/session';
import { quoteIdent as qi, quoteQualified as qq } from './db/sql';
import type { BackupRecord } from './backups';
import type { MigrationModel, TableModel } from './model';
import { STATE_SCHEMA, names } from './names';

export async function restoreExistingOrgColumn(session: Session, m: MigrationModel, t: TableModel, orgNotNull: boolean | null,
  backup: BackupRecord | undefined, exec: (sql: string) => Promise<void>): Promise<void> {
  const table = qq(t.name);
  const org = qi(m.orgColumn);
  await exec(`ALTER TABLE ${table} DROP CONSTRAINT IF EXISTS ${qi(names.foreignKey(t.name, m.orgColumn))}`);
  await exec(`ALTER TABLE ${table} DROP CONSTRAINT IF EXISTS ${qi(names.notNullCheck(t.name, m.orgColumn))}`);
  await exec(`DROP INDEX IF EXISTS ${qq({ schema: t.name.schema, name: names.index(t.name, m.orgColumn) })}`);
  if (orgNotNull === false) await exec(`ALTER TABLE ${table} ALTER COLUMN ${org} DROP NOT NULL`);
  if (!backup || !backup.columns.includes(m.orgColumn) || t.info.primaryKey.length === 0) return;
  // The rows the backfill filled: empty in the backup. Replica mode: the table's own triggers do not fire.
  const match = t.info.primaryKey.map((c) => `b.${qi(c)} = t.${qi(c)}`).join(' AND ');
  await exec(`SET LOCAL session_replication_role = replica`);
  await exec(`UPDATE ${table} AS t SET ${org} = NULL FROM ${qq({ schema: STATE_SCHEMA, name: backup.backupTable })} AS b WHERE ${match} AND b.${org} IS NULL AND t.${org} IS NOT NULL`);
  await exec(`SET LOCAL session_replication_role = origin`);
}
