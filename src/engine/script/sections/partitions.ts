// Partitioned tables: the work that a plain table gets in one statement, done partition by partition, then on the parent.
import {
  displayName,
  quoteIdent as qi,
  quoteLiteral as ql,
  quoteQualified as qq,
  type QualifiedName,
} from '../../db/sql';
import type { MigrationModel, TableModel } from '../../model';
import { DEFINER_ROLE, MEMBER_POLICY, names, regclass } from '../../names';
import { isLeaf, type PartitionInfo } from '../../partitions';
import { doBlock, named } from './common';
import { keptObjects } from './state';
import { attachedForeignKey, concurrentIndex, notNullCheck, orgForeignKey, setNotNull } from './constraints';

type Resolved = Required<QualifiedName>;

/** Every partition below a partitioned table, parents before their partitions; none for a plain table. */
export const partitionsOf = (t: TableModel): readonly PartitionInfo[] => t.info.partitionTree?.partitions ?? [];

/** The tables that hold the rows of `t` (heap pages, ctids): its leaf partitions, or itself. */
export const heapTablesOf = (t: TableModel): Resolved[] =>
  t.info.partitionTree
    ? partitionsOf(t)
        .filter(isLeaf)
        .map((p) => p.name)
    : [t.name];

/** The backfill state rows of `t`: its own, or (a partitioned table has no pages) those of its leaf partitions. */
export const backfillOf = (t: TableModel): string => {
  if (!t.info.partitionTree) return `table_schema = ${ql(t.name.schema)} AND table_name = ${ql(t.name.name)}`;
  const leaves = heapTablesOf(t).map((h) => `(${ql(h.schema)}, ${ql(h.name)})`);
  return leaves.length === 0 ? 'false' : `(table_schema, table_name) IN (${leaves.join(', ')})`;
};

const pairText = (name: Resolved) => `${name.schema}.${name.name}`;

/** The state table of the privileges the migration revoked from tenant roles on partitions (rollback grants them again). */
export function partitionState(m: MigrationModel): string[] {
  if (!m.tables.some((t) => t.info.partitionTree)) return [];
  return [
    `CREATE TABLE IF NOT EXISTS ${names.state('partition_grants')} (
  table_schema text NOT NULL,
  table_name text NOT NULL,
  grantee text NOT NULL,
  privilege_type text NOT NULL,
  is_grantable boolean NOT NULL,
  PRIMARY KEY (table_schema, table_name, grantee, privilege_type)
);`,
  ];
}

/**
 * Refuses, before any change, when a partitioned table's partitions are not those the script was generated for: a
 * partition it does not name would be neither backfilled nor covered by row-level security.
 */
export function partitionPreflight(m: MigrationModel): string[] {
  return m.tables
    .filter((t) => t.info.partitionTree)
    .map((t) => {
      const listed = (parts: readonly PartitionInfo[]) =>
        `(SELECT array_agg(x ORDER BY x) FROM unnest(ARRAY[${parts.map((p) => ql(pairText(p.name))).join(', ')}]::text[]) AS x)`;
      const now = (
        where: string,
      ) => `(SELECT array_agg(x ORDER BY x) FROM (SELECT n.nspname || '.' || c.relname AS x FROM pg_partition_tree(${regclass(t.name)}) AS p
       JOIN pg_class c ON c.oid = p.relid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${where}) AS x)`;
      const current = now('p.level > 0');
      // The leaves too: the lint reads from this assertion which partitions the parent's SET NOT NULL and foreign key reach.
      return named(
        'refuse when the partitions are not those the script was generated for',
        displayName(t.name),
        doBlock(`  IF ${listed(partitionsOf(t))} IS DISTINCT FROM ${current}
     OR ${listed(partitionsOf(t).filter((p) => p.relkind !== 'p'))} IS DISTINCT FROM ${now('p.isleaf')} THEN
    RAISE EXCEPTION 'tenant-migration: the partitions of % are not those this script was generated for (now: %)', ${ql(qq(t.name))}, ${current}
      USING HINT = 'Generate the script again (tenant-migrate generate --force), review it and run it: every partition must be backfilled and get row-level security.';
  END IF;`),
      );
    });
}

/** Each partition's row-level security before the migration, for rollback (the parent's is taken by the snapshot). */
export function partitionSnapshot(m: MigrationModel): string[] {
  return m.tables
    .flatMap((t) => partitionsOf(t))
    .map((p) =>
      named(
        "record the partition's row-level security before the migration",
        displayName(p.name),
        `INSERT INTO ${names.state('snapshot')} (table_schema, table_name, had_org_column, rls_enabled, rls_forced, had_permissive_policies, kept_objects)
SELECT ${ql(p.name.schema)}, ${ql(p.name.name)}, false, c.relrowsecurity, c.relforcerowsecurity,
       EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polpermissive AND p.polname <> ${ql(MEMBER_POLICY)}),
       ${keptObjects(m, p.name)}
  FROM pg_class c WHERE c.oid = ${regclass(p.name)}
ON CONFLICT (table_schema, table_name) DO NOTHING;`,
      ),
    );
}

/**
 * NOT NULL and the foreign key of a partitioned table. PostgreSQL 15 and 17 refuse a NOT VALID foreign key on a
 * partitioned table, and a check on the parent would be validated in one long statement: so each leaf gets a validated
 * CHECK and a validated foreign key of its own. The parent's SET NOT NULL then needs no scan (the checks prove it), and
 * the parent's foreign key, added valid, attaches each leaf's matching validated one instead of scanning (creating it on
 * intermediate levels, which hold no rows). PostgreSQL 18 accepts the same statements.
 */
export function partitionedConstraints(m: MigrationModel, t: TableModel): string[] {
  const leaves = heapTablesOf(t);
  return [
    ...leaves.flatMap((leaf) => notNullCheck(m, t, leaf)),
    ...setNotNull(m, t.name, leaves),
    ...leaves.flatMap((leaf) => orgForeignKey(m, leaf)),
    ...attachedForeignKey(m, t.name),
  ];
}

const indexOf = (m: MigrationModel, table: Resolved) =>
  qq({ schema: table.schema, name: names.index(table, m.orgColumn) });

/**
 * The org index of a partitioned table without a lock that blocks writers for a build: an index ON ONLY the parent and
 * every intermediate level (invalid until complete), each leaf's built CONCURRENTLY, then attached level by level from
 * the bottom; the parent's index becomes valid when its last partition's is attached. Re-running attaches nothing twice.
 */
export function partitionedIndexes(m: MigrationModel, t: TableModel): string[] {
  const partitioned = [
    t.name,
    ...partitionsOf(t)
      .filter((p) => p.relkind === 'p')
      .map((p) => p.name),
  ];
  const onOnly = partitioned.map(
    (table) =>
      `CREATE INDEX IF NOT EXISTS ${qi(names.index(table, m.orgColumn))} ON ONLY ${qq(table)} (${qi(m.orgColumn)});`,
  );
  const bottomUp = [...partitionsOf(t)].sort((a, b) => b.level - a.level);
  const attach = bottomUp.map((p) =>
    doBlock(`  IF NOT EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = ${ql(indexOf(m, p.name))}::regclass AND inhparent = ${ql(indexOf(m, p.parent))}::regclass) THEN
    ALTER INDEX ${indexOf(m, p.parent)} ATTACH PARTITION ${indexOf(m, p.name)};
  END IF;`),
  );
  const root = indexOf(m, t.name);
  return [
    ...onOnly.map((sql, i) =>
      named(
        `create the index on ${m.orgColumn} ON ONLY the partitioned table (invalid until attached)`,
        displayName(partitioned[i]!),
        sql,
      ),
    ),
    ...heapTablesOf(t).flatMap((leaf) => concurrentIndex(m, leaf)),
    ...attach.map((sql, i) =>
      named("attach the partition's index to its parent's", displayName(bottomUp[i]!.name), sql),
    ),
    named(
      'refuse a partitioned index left invalid',
      displayName(t.name),
      doBlock(`  IF NOT (SELECT indisvalid FROM pg_index WHERE indexrelid = ${ql(root)}::regclass) THEN
    RAISE EXCEPTION 'tenant-migration: the index % is not valid: a partition''s index is missing or invalid', ${ql(root)}
      USING HINT = 'Run again: each partition''s index is built and attached again.';
  END IF;`),
    ),
  ];
}

/** The tables row-level security goes on: each migrated table, then each of its partitions (a query naming a partition skips the parent's policies). */
export const rlsTablesOf = (t: TableModel): Resolved[] => [t.name, ...partitionsOf(t).map((p) => p.name)];

/**
 * Tenant roles lose their privileges on each partition, so that the API (PostgREST serves every table the API roles may
 * read, and Supabase's default privileges grant them every new table) serves the partitioned table only through its
 * parent. Roles that bypass row-level security, the owner and the triggers' role keep theirs. Each revoked privilege is
 * recorded for rollback.
 */
export function revokePartitionPrivileges(m: MigrationModel): string[] {
  return m.tables
    .flatMap((t) => partitionsOf(t))
    .map((p) =>
      named(
        "revoke the tenant roles' privileges on the partition (recorded for rollback)",
        displayName(p.name),
        doBlock(
          `  FOR grant_row IN
    SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END AS grantee, a.privilege_type, a.is_grantable
      FROM pg_class c, aclexplode(c.relacl) a
     WHERE c.oid = ${regclass(p.name)} AND a.grantee <> c.relowner AND a.grantee IS DISTINCT FROM to_regrole(${DEFINER_ROLE})
       AND NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.oid = a.grantee AND (r.rolsuper OR r.rolbypassrls)) LOOP
    INSERT INTO ${names.state('partition_grants')} (table_schema, table_name, grantee, privilege_type, is_grantable)
    VALUES (${ql(p.name.schema)}, ${ql(p.name.name)}, grant_row.grantee, grant_row.privilege_type, grant_row.is_grantable)
    ON CONFLICT DO NOTHING;
    EXECUTE format('REVOKE %s ON %s FROM %s', grant_row.privilege_type, ${ql(qq(p.name))},
      CASE WHEN grant_row.grantee = 'PUBLIC' THEN 'PUBLIC' ELSE quote_ident(grant_row.grantee) END);
  END LOOP;`,
          ['grant_row record'],
        ),
      ),
    );
}
