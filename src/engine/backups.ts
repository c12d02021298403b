// Backups the script takes (tenant_migration.backup_*): what is recorded, and whether each still matches its digest.
import type { Session } from './db/session';
import { quoteQualified as qq } from './db/sql';
import { failed } from './errors';
import { STATE_SCHEMA, names } from './names';

export interface BackupRecord {
  readonly backupTable: string;
  readonly table: { schema: string; name: string };
  readonly columns: string[];
  readonly rowCount: number;
  readonly digest: string;
  readonly takenAt: Date;
  readonly status: string;
}

export async function currentBackups(session: Session): Promise<BackupRecord[]> {
  const exists = (await session.query(`SELECT to_regclass($1) IS NOT NULL AS ok`, [`${STATE_SCHEMA}.backups`])).rows[0]!
    .ok;
  if (!exists) return [];
  const { rows } = await session.query<{
    backup_table: string;
    table_schema: string;
    table_name: string;
    columns: string[];
    row_count: string;
    digest: string;
    taken_at: Date;
    status: string;
  }>(`SELECT * FROM ${names.state('backups')} WHERE status = 'current' ORDER BY taken_at, backup_table`);
  return rows.map((r) => ({
    backupTable: r.backup_table,
    table: { schema: r.table_schema, name: r.table_name },
    columns: r.columns,
    rowCount: Number(r.row_count),
    digest: r.digest,
    takenAt: r.taken_at,
    status: r.status,
  }));
}

/** Tables whose backup of this migration was dropped by cleanup after sign-off ("schema.name"). */
export async function droppedBackupTables(session: Session): Promise<Set<string>> {
  const exists = (await session.query(`SELECT to_regclass($1) IS NOT NULL AS ok`, [`${STATE_SCHEMA}.backups`])).rows[0]!
    .ok;
  if (!exists) return new Set();
  const { rows } = await session.query<{ t: string }>(
    `SELECT DISTINCT table_schema || '.' || table_name AS t FROM ${names.state('backups')} WHERE status = 'dropped'`,
  );
  return new Set(rows.map((r) => r.t));
}

/** The format a recorded digest was taken in ('h1:…', 't1:…'; digests without a prefix are md5-based). */
export function digestFormat(digest: string): 'h1' | 't1' | 'md5' {
  return digest.startsWith('h1:') ? 'h1' : digest.startsWith('t1:') ? 't1' : 'md5';
}

/** The table's digest; given a recorded digest, in that digest's format so that the two compare. */
export async function digestOf(
  session: Session,
  table: { schema: string; name: string },
  columns: string[],
  like?: string,
): Promise<{ rowCount: number; digest: string }> {
  const format = like === undefined ? 'h1' : digestFormat(like);
  // A database migrated before digests had formats has only the md5 function, with two arguments.
  const legacy = (
    await session.query<{ missing: boolean }>(`SELECT to_regprocedure($1) IS NULL AS missing`, [
      `${STATE_SCHEMA}.table_digest(regclass,text[],text)`,
    ])
  ).rows[0]!.missing;
  if (legacy && format !== 'md5')
    throw failed(
      `${STATE_SCHEMA}.table_digest cannot compute ${format} digests`,
      'Run "tenant-migrate migrate" once to update the tool\'s functions, then try again.',
    );
  const { rows } = await session.query<{ row_count: string; digest: string }>(
    legacy
      ? `SELECT * FROM ${names.state('table_digest')}($1::regclass, $2::text[])`
      : `SELECT * FROM ${names.state('table_digest')}($1::regclass, $2::text[], $3)`,
    legacy ? [qq(table), columns] : [qq(table), columns, format],
  );
  return { rowCount: Number(rows[0]!.row_count), digest: rows[0]!.digest };
}

export interface BackupCheck {
  readonly record: BackupRecord;
  readonly present: boolean;
  readonly matches: boolean;
  readonly actualRows?: number;
  /** Taken in this step: its digest is the one just computed from it, not read again. */
  readonly justTaken?: boolean;
}

/** Whether the backup table is there and still has the rows and the digest recorded when it was taken. */
export async function checkBackup(session: Session, record: BackupRecord): Promise<BackupCheck> {
  const backup = { schema: STATE_SCHEMA, name: record.backupTable };
  const present = await backupPresent(session, record);
  if (!present) return { record, present, matches: false };
  const actual = await digestOf(session, backup, record.columns, record.digest);
  return {
    record,
    present,
    matches: actual.digest === record.digest && actual.rowCount === record.rowCount,
    actualRows: actual.rowCount,
  };
}

/**
 * Each current backup against its recorded digest. `takenNow` (the backup step, right after its script) names backups
 * whose digest was just computed from the backup table itself, in the transaction that wrote it: those are not read a
 * second time, only looked up.
 */
export async function verifyBackups(
  session: Session,
  takenNow: (record: BackupRecord) => boolean = () => false,
): Promise<BackupCheck[]> {
  const checks: BackupCheck[] = [];
  for (const record of await currentBackups(session)) {
    if (takenNow(record)) {
      const present = await backupPresent(session, record);
      checks.push({
        record,
        present,
        matches: present,
        actualRows: present ? record.rowCount : undefined,
        justTaken: true,
      });
    } else {
      checks.push(await checkBackup(session, record));
    }
  }
  return checks;
}

export const backupPresent = async (session: Session, record: BackupRecord) =>
  (
    await session.query(`SELECT to_regclass($1) IS NOT NULL AS ok`, [
      qq({ schema: STATE_SCHEMA, name: record.backupTable }),
    ])
  ).rows[0]!.ok as boolean;

/** Roles other than the owner that can read a backup (through PUBLIC, a grant, or default privileges). */
export async function backupReaders(session: Session, record: BackupRecord): Promise<string[]> {
  const { rows } = await session.query<{ role: string }>(
    `SELECT r.rolname AS role FROM pg_roles r
      WHERE NOT r.rolsuper AND r.rolname NOT LIKE 'pg\\_%'
        AND r.oid <> (SELECT relowner FROM pg_class WHERE oid = $1::regclass)
        AND has_table_privilege(r.oid, $1::regclass, 'SELECT')
        AND has_schema_privilege(r.oid, $2, 'USAGE')
      ORDER BY 1`,
    [qq({ schema: STATE_SCHEMA, name: record.backupTable }), STATE_SCHEMA],
  );
  return rows.map((r) => r.role);
}
