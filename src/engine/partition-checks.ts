// Whether every partition of a migrated partitioned table is covered: row-level security forced, the isolation policy,
// no privilege left to a tenant role. Read from the catalog as it is now, so a partition attached since shows up.
import type { Session } from './db/session';
import { displayName, quoteQualified } from './db/sql';
import type { CheckResult } from './events';
import { findTable } from './introspect';
import type { MigrationModel, TableModel } from './model';
import { DEFINER_ROLE, ISOLATION_POLICY } from './names';
import { currentEnforcement } from './enforce';
import { formatCount, plural } from '../shared/format';

interface Coverage {
  partition: string;
  rls: boolean;
  forced: boolean;
  policy: boolean;
  tenantGrantees: string[];
}

async function coverage(session: Session, t: TableModel): Promise<Coverage[] | undefined> {
  const info = await findTable(session, t.name);
  if (!info?.partitionTree) return undefined;
  const { rows } = await session.query<{
    schema: string;
    name: string;
    rls: boolean;
    forced: boolean;
    policy: boolean;
    grantees: string[];
  }>(
    `SELECT n.nspname AS schema, c.relname AS name, c.relrowsecurity AS rls, c.relforcerowsecurity AS forced,
            EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = $2) AS policy,
            ARRAY(SELECT DISTINCT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END FROM aclexplode(c.relacl) a
                   WHERE a.grantee <> c.relowner AND a.grantee IS DISTINCT FROM to_regrole(${DEFINER_ROLE}) AND NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.oid = a.grantee AND (r.rolsuper OR r.rolbypassrls)) ORDER BY 1)::text[] AS grantees
       FROM pg_partition_tree($1::regclass) t JOIN pg_class c ON c.oid = t.relid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE t.level > 0 ORDER BY t.level, 1, 2`,
    [quoteQualified(info.name), ISOLATION_POLICY],
  );
  return rows.map((r) => ({
    partition: displayName({ schema: r.schema, name: r.name }),
    rls: r.rls,
    forced: r.forced,
    policy: r.policy,
    tenantGrantees: r.grantees,
  }));
}

const uncovered = (c: Coverage, enforced: boolean) =>
  !c.rls || (enforced && !c.forced) || !c.policy || c.tenantGrantees.length > 0;
const describe = (c: Coverage, enforced: boolean) =>
  [
    c.rls ? '' : 'row-level security not enabled',
    !enforced || c.forced ? '' : 'row-level security not forced (isolation is enforced)',
    c.policy ? '' : `no ${ISOLATION_POLICY} policy`,
    c.tenantGrantees.length === 0 ? '' : `still granted to ${c.tenantGrantees.join(', ')}`,
  ]
    .filter(Boolean)
    .join(', ');

/**
 * One check per partitioned table: every partition covered, or the uncovered ones named with the fix. Forced
 * row-level security is required once isolation is enforced (in transition mode no table is forced).
 */
export async function partitionCoverageChecks(
  session: Session,
  m: MigrationModel,
  enforced: boolean,
  severity: 'error' | 'warning' = 'error',
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const t of m.tables) {
    const partitions = await coverage(session, t);
    if (!partitions) continue;
    const name = `${displayName(t.name)}: every partition isolated`;
    const open = partitions.filter((c) => uncovered(c, enforced));
    if (open.length === 0) {
      results.push({
        name,
        ok: true,
        detail: `${plural(partitions.length, 'partition')}: row-level security ${enforced ? 'forced' : 'enabled'}, the isolation policy, no tenant privilege`,
      });
      continue;
    }
    results.push({
      name,
      ok: false,
      severity,
      detail:
        `${open.map((c) => `${c.partition} (${describe(c, enforced)})`).join('; ')}: a query naming such a partition directly is not isolated (a partition attached after the migration?). ` +
        'Generate the script again (tenant-migrate generate --force) and run migrate: it covers every partition.',
    });
  }
  return results;
}

/**
 * For the prerequisites: what the migration will do on each partitioned table (a partition it cannot alter is a
 * refused shape, shapes/partition-owner.ts); once it has run, whether every partition
 * is still covered (a partition attached since is not, until the script is generated and run again).
 */
export async function partitionPrerequisites(session: Session, m: MigrationModel): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const t of m.tables) {
    const tree = t.info.partitionTree;
    if (!tree) continue;
    const migrated = t.info.columns.some((c) => c.name === m.orgColumn);
    if (migrated) {
      results.push(
        ...(await partitionCoverageChecks(
          session,
          { ...m, tables: [t] },
          !!(await currentEnforcement(session)),
          'warning',
        )),
      );
      continue;
    }
    const leaves = tree.partitions.filter((p) => p.relkind === 'r').length;
    results.push({
      name: `${displayName(t.name)}: partitions`,
      ok: true,
      detail:
        `partitioned by ${tree.keyColumns.join(', ')}: ${plural(tree.partitions.length, 'partition')}, ${formatCount(leaves)} holding rows; each is backfilled, checked, keyed and indexed on its own, ` +
        'and gets row-level security and the policies (tenant roles lose their privileges on the partitions: the application reads them through the parent)',
    });
  }
  return results;
}
