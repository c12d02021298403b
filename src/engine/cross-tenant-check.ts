// Verification for the roles that read across orgs: the isolation policy must not hide from them what they saw.
import type { Session } from './db/session';
import { displayName, quoteIdent as qi, quoteQualified as qq } from './db/sql';
import type { CheckResult } from './events';
import type { MigrationModel } from './model';
import { LEGACY_POLICY } from './names';
import { crossTenantRoles } from './script/isolation-policy';
import { formatCount, plural } from '../shared/format';

/**
 * In one snapshot: where a table had no policies of its own, a cross-tenant role that may read it must see every row,
 * as it did before; where it had its own policies, those decide and the role must still see more than one org.
 */
export async function crossTenantChecks(session: Session, m: MigrationModel): Promise<CheckResult[]> {
  const roles = (
    await session.query<{ rolname: string }>(
      `SELECT rolname FROM pg_roles WHERE rolname = ANY($1::text[]) ORDER BY 1`,
      [crossTenantRoles(m)],
    )
  ).rows.map((r) => r.rolname);
  if (roles.length === 0) return [];
  const checks: CheckResult[] = [];
  await session.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    for (const t of m.tables) {
      const table = qq(t.name);
      const count = `SELECT count(*)::bigint AS n, count(DISTINCT ${qi(m.orgColumn)})::bigint AS orgs FROM ${table}`;
      const all = (await session.query<{ n: string; orgs: string }>(count)).rows[0]!;
      const legacy =
        (
          await session.query(`SELECT 1 FROM pg_policy WHERE polrelid = $1 AND polname = $2 AND polroles = '{0}'`, [
            t.info.oid,
            LEGACY_POLICY,
          ])
        ).rows.length > 0;
      for (const role of roles) {
        const may = (
          await session.query<{ ok: boolean }>(`SELECT has_table_privilege($1, $2::regclass, 'SELECT') AS ok`, [
            role,
            t.info.oid,
          ])
        ).rows[0]!.ok;
        if (!may) continue;
        await session.query('SAVEPOINT cross_tenant');
        let seen: { n: string; orgs: string };
        try {
          await session.query(`SET LOCAL row_security = on`);
          await session.query(`SET LOCAL ROLE ${qi(role)}`);
          seen = (await session.query<{ n: string; orgs: string }>(count)).rows[0]!;
        } finally {
          await session.query('ROLLBACK TO SAVEPOINT cross_tenant');
        }
        const name = `${displayName(t.name)} as cross-tenant role ${role}`;
        checks.push(
          legacy
            ? {
                name,
                ok: seen.n === all.n,
                detail: `sees ${formatCount(Number(seen.n))} of ${plural(Number(all.n), 'row')}${seen.n === all.n ? ', as before the migration' : ': the isolation policy hides rows from it'}`,
              }
            : {
                name,
                ok: Number(seen.orgs) > 1 || Number(all.orgs) <= 1,
                detail: `sees ${plural(Number(seen.n), 'row')} of ${plural(Number(seen.orgs), 'org')} under the table's own policies`,
              },
        );
      }
    }
  } finally {
    await session.query('ROLLBACK');
  }
  return checks;
}
