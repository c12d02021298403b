// Rollback of an org column that was there before the migration: kept, with what the migration added undone —
// its constraint, its index, NOT NULL, and the values it filled into rows that were empty (found in the backup).
import type { Session } from './db/session';
import { quoteIdent as qi, quoteQualified as qq } from './db/sql';
import type { BackupRecord } from './backups';
import type { MigrationModel, TableModel } from './model';
import { STATE_SCHEMA, names } from './names';

/** The snapshot's record of `table`'s objects: those the user had under the migration's names are never dropped. */
export interface OrgColumnSnapshot {
  readonly org_not_null: boolean | null;
  readonly kept_objects: string[] | null;
}

export async function restoreExistingOrgColumn(
  session: Session,
  m: MigrationModel,
  t: TableModel,
  snap: OrgColumnSnapshot,
  backup: BackupRecord | undefined,
  exec: (sql: string) => Promise<void>,
): Promise<void> {
  const table = qq(t.name);
  const org = qi(m.orgColumn);
  const ours = (name: string) => !(snap.kept_objects ?? []).includes(name);
  const foreignKey = names.foreignKey(t.name, m.orgColumn);
  const check = names.notNullCheck(t.name, m.orgColumn);
  const index = names.index(t.name, m.orgColumn);
  if (ours(foreignKey)) await exec(`ALTER TABLE ${table} DROP CONSTRAINT IF EXISTS ${qi(foreignKey)}`);
  if (ours(check)) await exec(`ALTER TABLE ${table} DROP CONSTRAINT IF EXISTS ${qi(check)}`);
  if (ours(index)) await exec(`DROP INDEX IF EXISTS ${qq({ schema: t.name.schema, name: index })}`);
  const orgNotNull = snap.org_not_null;
  if (orgNotNull === false) await exec(`ALTER TABLE ${table} ALTER COLUMN ${org} DROP NOT NULL`);
  if (!backup || !backup.columns.includes(m.orgColumn) || t.info.primaryKey.length === 0) return;
  // The rows the backfill filled: empty in the backup. Replica mode: the table's own triggers do not fire.
  const match = t.info.primaryKey.map((c) => `b.${qi(c)} = t.${qi(c)}`).join(' AND ');
  await exec(`SET LOCAL session_replication_role = replica`);
  await exec(
    `UPDATE ${table} AS t SET ${org} = NULL FROM ${qq({ schema: STATE_SCHEMA, name: backup.backupTable })} AS b WHERE ${match} AND b.${org} IS NULL AND t.${org} IS NOT NULL`,
  );
  await exec(`SET LOCAL session_replication_role = origin`);
}
