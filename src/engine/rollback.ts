// Step 6: undo what the migration added, in one transaction, keeping every row written since. Optionally restore
// the data from the backups: explicit columns, digest-verified, refusing when rows would be lost unless told.
import type { Session } from './db/session';
import { displayName, quoteIdent as qi, quoteQualified as qq } from './db/sql';
import { refused, failed } from './errors';
import { findTable } from './introspect';
import type { MigrationModel } from './model';
import {
  ASSIGN_TRIGGER,
  ISOLATION_POLICY,
  LEDGER_TRIGGER,
  LEGACY_POLICY,
  MEMBER_POLICY,
  STATE_SCHEMA,
  names,
  retiredBackupName,
} from './names';
import { KEEP_ORG_FUNCTION, KEEP_ORG_TRIGGER, KNOWN_ORGS_TABLE } from './script/isolation-policy';
import { undoEnforce } from './enforce';
import { checkBackup, currentBackups, digestOf, type BackupRecord } from './backups';
import { undoPartitions } from './rollback-partitions';
import { undoChoices } from './rollback-choices';
import { restoreExistingOrgColumn, type OrgColumnSnapshot } from './rollback-org-column';
import { releaseDefinerRole, revokeColumnGrants } from './definer-role';
import { undoAuthHook } from './rollback-auth-hook';
import { plural } from '../shared/format';

export interface RollbackOptions {
  readonly restoreData: boolean;
  /** Restore even when live rows written since the backup would be lost. */
  readonly acceptDataLoss?: boolean;
}

export interface RollbackResult {
  readonly actions: string[];
  readonly restored: { table: string; rows: number }[];
  readonly backupsKeptAs: string[];
  /** Why the role the triggers ran as was kept, when it was. */
  readonly definerRoleKept?: string;
  /** What of the auth hook is kept on purpose, and how to drop it. */
  readonly authHookKept?: string;
}

interface Snapshot extends OrgColumnSnapshot {
  had_org_column: boolean;
  rls_enabled: boolean;
  rls_forced: boolean;
}

async function snapshotOf(session: Session, table: { schema: string; name: string }): Promise<Snapshot | undefined> {
  if (!(await session.query(`SELECT to_regclass($1) IS NOT NULL AS ok`, [`${STATE_SCHEMA}.snapshot`])).rows[0]!.ok)
    return undefined;
  return (
    await session.query<Snapshot>(
      `SELECT * FROM ${names.state('snapshot')} WHERE table_schema = $1 AND table_name = $2`,
      [table.schema, table.name],
    )
  ).rows[0];
}

async function exec(session: Session, actions: string[], sql: string): Promise<void> {
  await session.query(sql);
  actions.push(sql);
}

async function undoSchema(
  session: Session,
  m: MigrationModel,
  backups: BackupRecord[],
  actions: string[],
): Promise<void> {
  if (m.ledger && (await findTable(session, m.ledger.name))) {
    await exec(session, actions, `DROP TRIGGER IF EXISTS ${qi(LEDGER_TRIGGER)} ON ${qq(m.ledger.from.name)}`);
    await exec(session, actions, `DROP TABLE ${qq(m.ledger.name)}`);
  }
  for (const t of [...m.tables].reverse()) {
    const snap = await snapshotOf(session, t.name);
    const table = qq(t.name);
    await exec(session, actions, `DROP TRIGGER IF EXISTS ${qi(ASSIGN_TRIGGER)} ON ${table}`);
    await exec(session, actions, `DROP TRIGGER IF EXISTS ${qi(LEDGER_TRIGGER)} ON ${table}`);
    await exec(session, actions, `DROP POLICY IF EXISTS ${qi(ISOLATION_POLICY)} ON ${table}`);
    await exec(session, actions, `DROP POLICY IF EXISTS ${qi(MEMBER_POLICY)} ON ${table}`);
    await exec(session, actions, `DROP POLICY IF EXISTS ${qi(LEGACY_POLICY)} ON ${table}`);
    await exec(session, actions, `DROP TRIGGER IF EXISTS ${qi(KEEP_ORG_TRIGGER)} ON ${table}`);
    await undoPartitions(session, t, (sql) => exec(session, actions, sql));
    if (snap) {
      await exec(
        session,
        actions,
        `ALTER TABLE ${table} ${snap.rls_enabled ? 'ENABLE' : 'DISABLE'} ROW LEVEL SECURITY`,
      );
      await exec(session, actions, `ALTER TABLE ${table} ${snap.rls_forced ? 'FORCE' : 'NO FORCE'} ROW LEVEL SECURITY`);
    }
    if (snap?.had_org_column) {
      const backup = backups.find((b) => b.table.schema === t.name.schema && b.table.name === t.name.name);
      await restoreExistingOrgColumn(session, m, t, snap, backup, (sql) => exec(session, actions, sql));
    }
    if (snap && !snap.had_org_column) {
      actions.push(...(await revokeColumnGrants(session, t.name, m.orgColumn)));
      try {
        await exec(session, actions, `ALTER TABLE ${table} DROP COLUMN IF EXISTS ${qi(m.orgColumn)}`);
      } catch (e) {
        throw failed(
          `Cannot drop ${displayName(t.name)}.${m.orgColumn}: ${(e as Error).message}`,
          'Other objects (views, functions) now depend on it: drop or change them first, then roll back again. Nothing was changed.',
        );
      }
    }
    await exec(session, actions, `DROP FUNCTION IF EXISTS ${qq(names.assignFunction(t.name))}()`);
    await exec(session, actions, `DROP FUNCTION IF EXISTS ${qq(names.ledgerFunction(t.name))}()`);
    await exec(session, actions, `DROP TABLE IF EXISTS ${qq(names.assignTable(t.name))}`);
  }
  await exec(session, actions, `DROP FUNCTION IF EXISTS ${KEEP_ORG_FUNCTION}()`);
  await exec(session, actions, `DROP TABLE IF EXISTS ${KNOWN_ORGS_TABLE}`);
}

/** Rows that would be lost by restoring (live rows not in the backup), counted over the backup's columns. */
async function rowsLostByRestore(
  session: Session,
  live: { schema: string; name: string },
  backup: BackupRecord,
): Promise<number> {
  const cols = backup.columns.map(qi).join(', ');
  const { rows } = await session.query<{ n: string }>(
    `SELECT count(*)::text AS n FROM (SELECT ${cols} FROM ${qq(live)} EXCEPT ALL SELECT ${cols} FROM ${qq({ schema: STATE_SCHEMA, name: backup.backupTable })}) d`,
  );
  return Number(rows[0]!.n);
}

async function restoreData(
  session: Session,
  m: MigrationModel,
  backups: BackupRecord[],
  options: RollbackOptions,
  actions: string[],
): Promise<{ table: string; rows: number }[]> {
  const byTable = m.tables.map((t) => ({
    t,
    backup: backups.find((b) => b.table.schema === t.name.schema && b.table.name === t.name.name),
  }));
  const missing = byTable.filter((x) => !x.backup).map((x) => displayName(x.t.name));
  if (missing.length > 0)
    throw refused(
      `No backup is recorded for ${missing.join(', ')}`,
      'Roll back without --restore-data (the schema only), or restore from your full database dump.',
    );
  for (const { backup } of byTable) {
    const check = await checkBackup(session, backup!);
    if (!check.matches) {
      throw refused(
        `The backup ${STATE_SCHEMA}.${backup!.backupTable} ${check.present ? 'no longer matches its recorded digest' : 'is missing'}`,
        'Do not restore from it: roll back without --restore-data, or restore from your full database dump.',
      );
    }
  }
  const losses: string[] = [];
  for (const { t, backup } of byTable) {
    const lost = await rowsLostByRestore(session, t.name, backup!);
    if (lost > 0) losses.push(`${displayName(t.name)}: ${lost}`);
  }
  if (losses.length > 0 && !options.acceptDataLoss) {
    throw refused(
      `Restoring the backups would lose rows written or changed since the backup (${losses.join(', ')})`,
      'Roll back without --restore-data to keep them, or add --accept-data-loss to restore exactly the backed-up data.',
    );
  }
  // Replica mode: foreign-key and user triggers do not fire, so a restore never cascades into other tables.
  await exec(session, actions, `SET LOCAL session_replication_role = replica`);
  for (const { t } of [...byTable].reverse()) await exec(session, actions, `DELETE FROM ${qq(t.name)}`);
  const restored: { table: string; rows: number }[] = [];
  for (const { t, backup } of byTable) {
    // Generated columns are computed again, never written (a backup taken by an earlier version may list them).
    const generated = new Set(
      (await findTable(session, t.name))?.columns.filter((c) => c.generated).map((c) => c.name) ?? [],
    );
    const cols = backup!.columns
      .filter((c) => !generated.has(c))
      .map(qi)
      .join(', ');
    const result = await session.query(
      `INSERT INTO ${qq(t.name)} (${cols}) OVERRIDING SYSTEM VALUE SELECT ${cols} FROM ${qq({ schema: STATE_SCHEMA, name: backup!.backupTable })}`,
    );
    actions.push(
      `INSERT INTO ${qq(t.name)} (${cols}) OVERRIDING SYSTEM VALUE SELECT … FROM ${STATE_SCHEMA}.${backup!.backupTable}`,
    );
    restored.push({ table: displayName(t.name), rows: result.rowCount ?? 0 });
    const after = await digestOf(session, t.name, backup!.columns, backup!.digest);
    if (after.digest !== backup!.digest)
      throw failed(
        `${displayName(t.name)} does not equal its backup after the restore`,
        'Nothing was changed (the transaction was rolled back). Report this.',
      );
  }
  await exec(session, actions, `SET LOCAL session_replication_role = origin`);
  await assertNoDanglingReferences(session, m);
  return restored;
}

/** Tables outside the migration that reference restored rows must still find them. */
async function assertNoDanglingReferences(session: Session, m: MigrationModel): Promise<void> {
  const oids = m.tables.map((t) => t.info.oid);
  const { rows } = await session.query<{
    conname: string;
    child: string;
    parent: string;
    cols: string[];
    refcols: string[];
  }>(
    `SELECT con.conname, con.conrelid::regclass::text AS child, con.confrelid::regclass::text AS parent,
            ARRAY(SELECT attname FROM unnest(con.conkey) WITH ORDINALITY k(n, o) JOIN pg_attribute ON attrelid = con.conrelid AND attnum = k.n ORDER BY o)::text[] AS cols,
            ARRAY(SELECT attname FROM unnest(con.confkey) WITH ORDINALITY k(n, o) JOIN pg_attribute ON attrelid = con.confrelid AND attnum = k.n ORDER BY o)::text[] AS refcols
       FROM pg_constraint con WHERE con.contype = 'f' AND con.confrelid = ANY($1::oid[])`,
    [oids],
  );
  for (const fk of rows) {
    const match = fk.cols.map((c, i) => `p.${qi(fk.refcols[i]!)} = c.${qi(c)}`).join(' AND ');
    const notNull = fk.cols.map((c) => `c.${qi(c)} IS NOT NULL`).join(' AND ');
    const { rows: dangling } = await session.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM ${fk.child} c WHERE ${notNull} AND NOT EXISTS (SELECT 1 FROM ${fk.parent} p WHERE ${match})`,
    );
    if (Number(dangling[0]!.n) > 0) {
      throw refused(
        `Restoring would leave ${plural(Number(dangling[0]!.n), 'row')} of ${fk.child} pointing at missing ${fk.parent} rows (${fk.conname})`,
        'Nothing was changed. Roll back without --restore-data, or deal with those rows first.',
      );
    }
  }
}

/** Backups of this migration are renamed by date so the next migration takes fresh ones; they are never dropped here. */
async function retireBackups(session: Session, backups: BackupRecord[], actions: string[]): Promise<string[]> {
  const stamp = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const kept: string[] = [];
  for (const b of backups) {
    const newName = retiredBackupName(b.backupTable, stamp);
    await exec(
      session,
      actions,
      `ALTER TABLE ${qq({ schema: STATE_SCHEMA, name: b.backupTable })} RENAME TO ${qi(newName)}`,
    );
    await session.query(
      `UPDATE ${names.state('backups')} SET backup_table = $2, status = 'superseded' WHERE backup_table = $1`,
      [b.backupTable, newName],
    );
    kept.push(`${STATE_SCHEMA}.${newName}`);
  }
  return kept;
}

export async function rollback(
  session: Session,
  model: MigrationModel,
  options: RollbackOptions,
): Promise<RollbackResult> {
  const actions: string[] = [];
  return session.transaction(async () => {
    await session.query(`SET LOCAL lock_timeout = '${model.loaded.spec.lockTimeoutMs * 5}ms'`);
    const backups = await currentBackups(session);
    // Enforcement's revoked view grants come back; its policies and FORCE go with the rest below.
    actions.push(...(await undoEnforce(session, model, { policies: false })));
    await undoChoices(session, (sql) => exec(session, actions, sql));
    await undoSchema(session, model, backups, actions);
    const authHookKept = await undoAuthHook(session, model, (sql) => exec(session, actions, sql));
    const restored = options.restoreData ? await restoreData(session, model, backups, options, actions) : [];
    if (
      await session
        .query(`SELECT to_regclass($1) IS NOT NULL AS ok`, [`${STATE_SCHEMA}.snapshot`])
        .then((r) => r.rows[0]!.ok)
    ) {
      await exec(session, actions, `DELETE FROM ${names.state('snapshot')}`);
      await exec(session, actions, `DELETE FROM ${names.state('backfill')}`);
    }
    const backupsKeptAs = await retireBackups(session, backups, actions);
    // Backups cleanup dropped belong to the migration undone here: the next migration takes fresh ones.
    if (
      await session
        .query(`SELECT to_regclass($1) IS NOT NULL AS ok`, [`${STATE_SCHEMA}.backups`])
        .then((r) => r.rows[0]!.ok)
    ) {
      await session.query(
        `UPDATE ${names.state('backups')} SET status = 'superseded', backup_table = left(backup_table, 40) || '_dropped_' || to_char(now(), 'YYYYMMDDHH24MISS') WHERE status = 'dropped'`,
      );
    }
    const definer = await releaseDefinerRole(session);
    actions.push(...definer.actions);
    return { actions, restored, backupsKeptAs, definerRoleKept: definer.kept, authHookKept };
  });
}
