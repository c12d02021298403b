// Rollback's part for this database's definer role (names.ts): take back every grant it received here, and drop it
// when nothing, in this database or another, refers to it any more.
import type { Session } from './db/session';
import { quoteIdent as qi, quoteQualified as qq, type QualifiedName } from './db/sql';
import { DEFINER_ROLE } from './names';

/** The kinds of object the script grants the role privileges on, and how REVOKE names them. */
const REVOCABLE: Record<string, { keyword: string; regtype: string }> = {
  pg_class: { keyword: 'TABLE', regtype: 'regclass' },
  pg_namespace: { keyword: 'SCHEMA', regtype: 'regnamespace' },
  pg_proc: { keyword: 'FUNCTION', regtype: 'regprocedure' },
};

interface Dependency {
  catalog: string;
  object: string;
  kind: 'owner' | 'privileges' | 'other';
  here: boolean;
}

/** Everything that refers to the role, in any database: ownership and privileges recorded in pg_shdepend. */
async function dependencies(session: Session, role: string): Promise<Dependency[]> {
  const { rows } = await session.query<{
    catalog: string;
    objid: string;
    deptype: string;
    here: boolean;
    database: string | null;
  }>(
    `SELECT d.classid::regclass::text AS catalog, d.objid::text AS objid, d.deptype::text AS deptype, db.datname AS database,
            d.dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AS here
       FROM pg_shdepend d LEFT JOIN pg_database db ON db.oid = d.dbid
      WHERE d.refclassid = 'pg_authid'::regclass AND d.refobjid = $1::regrole`,
    [role],
  );
  const unique = new Map<string, Dependency>();
  for (const r of rows) {
    const kind = r.deptype === 'o' ? 'owner' : r.deptype === 'a' ? 'privileges' : 'other';
    const object =
      r.here && REVOCABLE[r.catalog]
        ? (
            await session.query<{ name: string }>(`SELECT $1::oid::${REVOCABLE[r.catalog]!.regtype}::text AS name`, [
              r.objid,
            ])
          ).rows[0]!.name
        : `${r.catalog} ${r.objid}${r.database ? ` in database ${r.database}` : ''}`;
    unique.set(`${r.catalog} ${r.objid} ${kind}`, { catalog: r.catalog, object, kind, here: r.here });
  }
  return [...unique.values()];
}

/**
 * Unless it still owns something here, revokes what the role was granted on this database's tables, schemas and functions, then drops it if nothing refers
 * to it any more (it owns nothing, is granted nothing, in any database: roles are cluster-wide). Returns the SQL run
 * and, when the role is kept, why.
 */
export async function releaseDefinerRole(session: Session): Promise<{ actions: string[]; kept?: string }> {
  const role = (
    await session.query<{ role: string; exists: boolean }>(
      `SELECT ${DEFINER_ROLE} AS role, to_regrole(${DEFINER_ROLE}) IS NOT NULL AS exists`,
    )
  ).rows[0]!;
  if (!role.exists) return { actions: [] };
  const before = await dependencies(session, role.role);
  const owned = before.filter((d) => d.here && d.kind === 'owner');
  // Triggers outside this migration's tables still run as it: its grants are theirs.
  if (owned.length > 0)
    return {
      actions: [],
      kept: `kept the role ${role.role} and its grants: it still owns ${owned
        .slice(0, 5)
        .map((d) => d.object)
        .join(', ')}`,
    };
  const actions: string[] = [];
  for (const d of before) {
    const revocable = REVOCABLE[d.catalog];
    if (!d.here || d.kind !== 'privileges' || !revocable) continue;
    const sql = `REVOKE ALL ON ${revocable.keyword} ${d.object} FROM ${qi(role.role)}`;
    if (!actions.includes(sql)) {
      await session.query(sql);
      actions.push(sql);
    }
  }
  const left = await dependencies(session, role.role);
  if (left.length > 0) {
    return {
      actions,
      kept: `kept the role ${role.role}: ${left
        .slice(0, 5)
        .map(
          (d) =>
            `${d.kind === 'owner' ? 'it owns' : d.kind === 'privileges' ? 'it holds privileges on' : 'referenced by'} ${d.object}`,
        )
        .join('; ')}`,
    };
  }
  // The operator may not be allowed to drop it (another role created it): then it stays, granted nothing.
  await session.query('SAVEPOINT tenant_migration_drop_definer');
  try {
    await session.query(`DROP ROLE ${qi(role.role)}`);
    await session.query('RELEASE SAVEPOINT tenant_migration_drop_definer');
    actions.push(`DROP ROLE ${qi(role.role)}`);
    return { actions };
  } catch (error) {
    await session.query('ROLLBACK TO SAVEPOINT tenant_migration_drop_definer');
    return { actions, kept: `kept the role ${role.role} (granted nothing now): ${(error as Error).message}` };
  }
}

/**
 * Before a column is dropped: what the role was granted on it (a dropped column keeps its ACL, and with it a dependency
 * that would keep the role, on PostgreSQL 15). Returns the SQL run.
 */
export async function revokeColumnGrants(
  session: Session,
  table: Required<QualifiedName>,
  column: string,
): Promise<string[]> {
  const { rows } = await session.query<{ role: string }>(
    `SELECT ${DEFINER_ROLE} AS role FROM pg_attribute a, aclexplode(a.attacl) g
      WHERE a.attrelid = $1::regclass AND a.attname = $2 AND g.grantee = to_regrole(${DEFINER_ROLE}) LIMIT 1`,
    [qq(table), column],
  );
  if (rows.length === 0) return [];
  const sql = `REVOKE ALL (${qi(column)}) ON TABLE ${qq(table)} FROM ${qi(rows[0]!.role)}`;
  await session.query(sql);
  return [sql];
}
