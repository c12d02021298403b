// Rollback of what the migration did on each partition of a partitioned table: policies, row-level security, privileges.
import type { Session } from './db/session';
import { quoteIdent as qi, quoteQualified as qq } from './db/sql';
import type { TableModel } from './model';
import { ISOLATION_POLICY, LEGACY_POLICY, MEMBER_POLICY, STATE_SCHEMA, names } from './names';

type Exec = (sql: string) => Promise<void>;

const stateTableExists = async (session: Session, name: string) =>
  (await session.query<{ ok: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS ok`, [`${STATE_SCHEMA}.${name}`]))
    .rows[0]!.ok;

/** Runs before the org column is dropped (the policies depend on it); partitions' columns, checks, keys and indexes go with the parent's column. */
export async function undoPartitions(session: Session, t: TableModel, exec: Exec): Promise<void> {
  const partitions = t.info.partitionTree?.partitions ?? [];
  if (partitions.length === 0) return;
  const snapshots = await stateTableExists(session, 'snapshot');
  const grants = await stateTableExists(session, 'partition_grants');
  for (const p of partitions) {
    const table = qq(p.name);
    await exec(`DROP POLICY IF EXISTS ${qi(ISOLATION_POLICY)} ON ${table}`);
    await exec(`DROP POLICY IF EXISTS ${qi(MEMBER_POLICY)} ON ${table}`);
    await exec(`DROP POLICY IF EXISTS ${qi(LEGACY_POLICY)} ON ${table}`);
    const snap = snapshots
      ? (
          await session.query<{ rls_enabled: boolean; rls_forced: boolean }>(
            `SELECT rls_enabled, rls_forced FROM ${names.state('snapshot')} WHERE table_schema = $1 AND table_name = $2`,
            [p.name.schema, p.name.name],
          )
        ).rows[0]
      : undefined;
    if (snap) {
      await exec(`ALTER TABLE ${table} ${snap.rls_enabled ? 'ENABLE' : 'DISABLE'} ROW LEVEL SECURITY`);
      await exec(`ALTER TABLE ${table} ${snap.rls_forced ? 'FORCE' : 'NO FORCE'} ROW LEVEL SECURITY`);
    }
    if (!grants) continue;
    const revoked = await session.query<{ grantee: string; privilege_type: string; is_grantable: boolean }>(
      `SELECT grantee, privilege_type, is_grantable FROM ${names.state('partition_grants')} WHERE table_schema = $1 AND table_name = $2 ORDER BY grantee, privilege_type`,
      [p.name.schema, p.name.name],
    );
    for (const g of revoked.rows) {
      const grantee = g.grantee === 'PUBLIC' ? 'PUBLIC' : qi(g.grantee);
      await exec(`GRANT ${g.privilege_type} ON ${table} TO ${grantee}${g.is_grantable ? ' WITH GRANT OPTION' : ''}`);
    }
    await session.query(`DELETE FROM ${names.state('partition_grants')} WHERE table_schema = $1 AND table_name = $2`, [
      p.name.schema,
      p.name.name,
    ]);
  }
}
