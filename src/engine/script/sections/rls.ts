// Row-level security in transition mode, and the closing ANALYZE.
import { displayName, quoteIdent as qi, quoteLiteral as ql, quoteQualified as qq } from '../../db/sql';
import type { MigrationModel } from '../../model';
import { ISOLATION_POLICY, LEGACY_POLICY, MEMBER_POLICY, names, regclass } from '../../names';
import {
  KEEP_ORG_FUNCTION,
  KEEP_ORG_TRIGGER,
  isolationPredicate,
  readEnforced,
  transitionSupport,
} from '../isolation-policy';
import { doBlock, named, patiently } from './common';
import { rlsTablesOf } from './partitions';

const policyExists = (name: { schema: string; name: string }, policy: string) =>
  `EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = ${regclass(name)} AND polname = ${ql(policy)})`;

/**
 * Transition mode, each table in one transaction: RLS enabled (not forced: the owner keeps its access until enforce),
 * the restrictive isolation policy, and where the table had no policies of its own a permissive one that reproduces
 * its old access (a restrictive policy alone grants nothing). The new ledger is strict from the start. A partitioned
 * table's partitions each get the same block (a query naming a partition skips the parent's policies), but not the
 * trigger: PostgreSQL clones the parent's row trigger onto every partition.
 */
export function rowLevelSecurity(m: MigrationModel): string[] {
  const targets = m.tables.flatMap((t) => rlsTablesOf(t).map((name) => ({ name, partition: name !== t.name })));
  const tables = targets.map(({ name, partition }) => {
    const table = qq(name);
    const predicate = isolationPredicate(m, m.orgColumn, 'transition');
    const enforcedPredicate = isolationPredicate(m, m.orgColumn, 'enforced');
    const snap = `(SELECT s FROM ${names.state('snapshot')} AS s WHERE table_schema = ${ql(name.schema)} AND table_name = ${ql(name.name)})`;
    return doBlock(
      `  ${readEnforced('enforced')}
  ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY;
  IF NOT ${policyExists(name, ISOLATION_POLICY)} THEN
    CREATE POLICY ${qi(ISOLATION_POLICY)} ON ${table} AS RESTRICTIVE FOR ALL TO PUBLIC
      USING ${predicate} WITH CHECK ${predicate};
  END IF;
  IF NOT ${policyExists(name, LEGACY_POLICY)} THEN
    IF NOT coalesce((${snap}).rls_enabled, false) THEN
      CREATE POLICY ${qi(LEGACY_POLICY)} ON ${table} AS PERMISSIVE FOR ALL TO PUBLIC USING (true) WITH CHECK (true);
    ELSIF NOT coalesce((${snap}).rls_forced, false) THEN
      EXECUTE format('CREATE POLICY %I ON %s AS PERMISSIVE FOR ALL TO %I USING (true) WITH CHECK (true)', ${ql(LEGACY_POLICY)}, ${ql(table)},
        (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = ${regclass(name)}));
    END IF;
  END IF;
  -- On a database where isolation is enforced already (a partition added since): enforced at once, as enforce does.
  IF enforced THEN
    ALTER POLICY ${qi(ISOLATION_POLICY)} ON ${table} USING ${enforcedPredicate} WITH CHECK ${enforcedPredicate};
    ALTER TABLE ${table} FORCE ROW LEVEL SECURITY;
  END IF;${
    partition
      ? ''
      : `
  CREATE OR REPLACE TRIGGER ${qi(KEEP_ORG_TRIGGER)} BEFORE UPDATE OF ${qi(m.orgColumn)} ON ${table}
    FOR EACH ROW EXECUTE FUNCTION ${KEEP_ORG_FUNCTION}(${ql(m.orgColumn)});`
  }`,
      ['enforced boolean := false'],
    );
  });
  const ledger = m.ledger ? [ledgerSecurity(m, m.ledger.name)] : [];
  // One table per transaction: holding a single ACCESS EXCLUSIVE lock at a time cannot deadlock with the
  // application, whose inserts lock a child table and then its parent (foreign-key checks).
  const namedTables = tables.map((sql, i) =>
    named('row-level security on, the isolation policy in transition mode', displayName(targets[i]!.name), sql),
  );
  return [
    ...transitionSupport(m),
    ...namedTables,
    ...ledger.map((sql) =>
      named('row-level security forced on the ledger, its policies', displayName(m.ledger!.name), sql),
    ),
  ];
}

function ledgerSecurity(m: MigrationModel, name: { schema: string; name: string }): string {
  const table = qq(name);
  const predicate = isolationPredicate(m, 'org_id', 'enforced');
  return doBlock(`  ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY;
  ALTER TABLE ${table} FORCE ROW LEVEL SECURITY;
  IF NOT ${policyExists(name, ISOLATION_POLICY)} THEN
    CREATE POLICY ${qi(ISOLATION_POLICY)} ON ${table} AS RESTRICTIVE FOR ALL TO PUBLIC USING ${predicate} WITH CHECK ${predicate};
  END IF;
  IF NOT ${policyExists(name, MEMBER_POLICY)} THEN
    CREATE POLICY ${qi(MEMBER_POLICY)} ON ${table} AS PERMISSIVE FOR ALL TO PUBLIC USING ${predicate} WITH CHECK ${predicate};
  END IF;`);
}

/** The tables were vacuumed after their backfill; the ledger is new and gets its statistics here. */
export function vacuum(m: MigrationModel): string[] {
  return m.ledger ? patiently(m, `ANALYZE ${qq(m.ledger.name)};`) : [];
}
