// Row-level security and the closing ANALYZE.
import { quoteIdent as qi, quoteLiteral as ql, quoteQualified as qq } from '../../db/sql';
import type { MigrationModel } from '../../model';
import { ISOLATION_POLICY, MEMBER_POLICY, names, regclass } from '../../names';
import { currentOrgExpression } from '../context';
import { doBlock, patiently } from './common';
import { rlsTablesOf } from './partitions';

/** Row-level security: enabled, forced and the policies, each table (and each partition) in one transaction. */
export function rowLevelSecurity(m: MigrationModel): string[] {
  const current = currentOrgExpression(m.loaded.spec.tenantContext, m.orgType);
  const targets: { name: { schema: string; name: string }; snapshot: boolean; column: string }[] =
    m.tables.flatMap(rlsTablesOf).map((name) => ({ name, snapshot: true, column: m.orgColumn }));
  if (m.ledger) targets.push({ name: m.ledger.name, snapshot: false, column: 'org_id' });
  const body = targets.map(({ name, snapshot, column }) => {
    const table = qq(name);
    const org = qi(column);
    const policyExists = (policy: string) => `EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = ${regclass(name)} AND polname = ${ql(policy)})`;
    const memberNeeded = snapshot
      ? `NOT coalesce((SELECT had_permissive_policies FROM ${names.state('snapshot')} WHERE table_schema = ${ql(name.schema)} AND table_name = ${ql(name.name)}), false)`
      : 'true';
    return `  ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY;
  ALTER TABLE ${table} FORCE ROW LEVEL SECURITY;
  IF NOT ${policyExists(ISOLATION_POLICY)} THEN
    CREATE POLICY ${qi(ISOLATION_POLICY)} ON ${table} AS RESTRICTIVE FOR ALL TO PUBLIC
      USING (${org} = ${current}) WITH CHECK (${org} = ${current});
  END IF;
  IF ${memberNeeded} AND NOT ${policyExists(MEMBER_POLICY)} THEN
    CREATE POLICY ${qi(MEMBER_POLICY)} ON ${table} AS PERMISSIVE FOR ALL TO PUBLIC
      USING (${org} = ${current}) WITH CHECK (${org} = ${current});
  END IF;`;
  });
  // One table per transaction: holding a single ACCESS EXCLUSIVE lock at a time cannot deadlock with the
  // application, whose inserts lock a child table and then its parent (foreign-key checks).
  return body.map((block) => doBlock(block));
}

/** The tables were vacuumed after their backfill; the ledger is new and gets its statistics here. */
export function vacuum(m: MigrationModel): string[] {
  return m.ledger ? patiently(m, `ANALYZE ${qq(m.ledger.name)};`) : [];
}
