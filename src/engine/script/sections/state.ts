// The tool's state schema, the preflight refusal, the snapshot and the backups.
import {
  displayName,
  dollarQuote,
  quoteIdent as qi,
  quoteLiteral as ql,
  quoteQualified as qq,
  type QualifiedName,
} from '../../db/sql';
import type { MigrationModel } from '../../model';
import { MEMBER_POLICY, PROGRESS_PREFIX, STATE_SCHEMA, names, regclass } from '../../names';
import { heapTablesOf } from './partitions';
import { PROBLEM, doBlock, hasColumn, named, orgValue, revokeFromOthers, tableLiteral } from './common';
import { KNOWN_ORGS_TABLE } from '../isolation-policy';

/**
 * Refuses a state schema that another role owns (it could drop the backups) or may create objects in (a table or
 * function of its own among ours): the message names the role and the fix.
 */
export function refuseForeignStateSchema(): string {
  const schema = ql(STATE_SCHEMA);
  return named(
    'refuse a state schema another role owns or may create objects in',
    STATE_SCHEMA,
    doBlock(
      `  SELECT pg_get_userbyid(n.nspowner) INTO problem FROM pg_namespace n WHERE n.nspname = ${schema} AND n.nspowner <> (SELECT oid FROM pg_roles WHERE rolname = current_user);
  IF problem IS NOT NULL THEN
    RAISE EXCEPTION 'tenant-migration: the schema % is owned by %, not by %: that role could drop the backups and change the recorded state', ${schema}, problem, current_user
      USING HINT = format('If it is the migration''s: ALTER SCHEMA %I OWNER TO %I; otherwise rename it. Then run again.', ${schema}, current_user);
  END IF;
  SELECT string_agg(DISTINCT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END, ', ') INTO problem
    FROM pg_namespace n, aclexplode(n.nspacl) a WHERE n.nspname = ${schema} AND a.grantee <> n.nspowner AND a.privilege_type = 'CREATE';
  IF problem IS NOT NULL THEN
    RAISE EXCEPTION 'tenant-migration: % may create objects in the schema %', problem, ${schema}
      USING HINT = format('REVOKE CREATE ON SCHEMA %I FROM %s; then run again.', ${schema}, problem);
  END IF;`,
      [PROBLEM],
    ),
  );
}

/** Every table, sequence and function of the state schema: no privilege for any role but its owner (and the triggers' role). */
export function lockDownStateSchema(): string {
  return named(
    "revoke every privilege on the state schema's objects from other roles",
    STATE_SCHEMA,
    doBlock(
      `  EXECUTE format('REVOKE ALL ON SCHEMA %I FROM PUBLIC', ${ql(STATE_SCHEMA)});
  FOR object IN SELECT c.oid::regclass::text AS name FROM pg_class c WHERE c.relnamespace = ${ql(STATE_SCHEMA)}::regnamespace AND c.relkind IN ('r', 'p', 'S', 'v', 'm') LOOP
    ${revokeFromOthers('TABLE', 'object.name')}
  END LOOP;
  FOR object IN SELECT p.oid::regprocedure::text AS name FROM pg_proc p WHERE p.pronamespace = ${ql(STATE_SCHEMA)}::regnamespace LOOP
    ${revokeFromOthers('FUNCTION', 'object.name')}
  END LOOP;
  -- The exception: the transition policy reads the orgs known at migration time as the requesting role.
  IF to_regclass(${ql(KNOWN_ORGS_TABLE)}) IS NOT NULL THEN
    GRANT SELECT ON ${KNOWN_ORGS_TABLE} TO PUBLIC;
  END IF;`,
      ['object record', 'grantee oid'],
    ),
  );
}

export function stateSchema(): string[] {
  const s = names.state;
  return [
    refuseForeignStateSchema(),
    `CREATE SCHEMA IF NOT EXISTS ${qi(STATE_SCHEMA)};`,
    `REVOKE ALL ON SCHEMA ${qi(STATE_SCHEMA)} FROM PUBLIC;`,
    `CREATE TABLE IF NOT EXISTS ${s('snapshot')} (
  table_schema text NOT NULL,
  table_name text NOT NULL,
  had_org_column boolean NOT NULL,
  rls_enabled boolean NOT NULL,
  rls_forced boolean NOT NULL,
  had_permissive_policies boolean NOT NULL,
  taken_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (table_schema, table_name)
);`,
    // Whether an org column that was there before the migration was NOT NULL (NULL: there was none), for rollback.
    `ALTER TABLE ${s('snapshot')} ADD COLUMN IF NOT EXISTS org_not_null boolean;`,
    // The user's own objects that had the names the migration gives its key, check and index: never validated,
    // dropped or rolled back by the migration (NULL: recorded by a version that did not look).
    `ALTER TABLE ${s('snapshot')} ADD COLUMN IF NOT EXISTS kept_objects text[];`,
    `CREATE TABLE IF NOT EXISTS ${s('backups')} (
  backup_table text PRIMARY KEY,
  table_schema text NOT NULL,
  table_name text NOT NULL,
  columns text[] NOT NULL,
  row_count bigint NOT NULL,
  digest text NOT NULL,
  status text NOT NULL DEFAULT 'current' CHECK (status IN ('current', 'superseded', 'dropped')),
  taken_at timestamptz NOT NULL DEFAULT now()
);`,
    `CREATE TABLE IF NOT EXISTS ${s('backfill')} (
  table_schema text NOT NULL,
  table_name text NOT NULL,
  next_page bigint NOT NULL,
  last_page bigint NOT NULL,
  rows_done bigint NOT NULL DEFAULT 0,
  completed_at timestamptz,
  PRIMARY KEY (table_schema, table_name)
);`,
    // An order-independent digest of rows (a multiset hash): the same rows give the same digest in any order.
    // 'h1:' sums the column types' own 64-bit hash functions (those hash partitioning relies on); a table with a column
    // type that has none (json, point, …) falls back to 't1:', a hash of each row's text. Digests recorded before the
    // formats had a prefix ('md5') are verified the way they were taken.
    `DROP FUNCTION IF EXISTS ${s('table_digest')}(regclass, text[]);`,
    `CREATE OR REPLACE FUNCTION ${s('table_digest')}(relation regclass, cols text[], digest_format text DEFAULT 'h1')
RETURNS TABLE (row_count bigint, digest text) LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS ${dollarQuote(`
DECLARE
  row_expr text;
BEGIN
  SELECT string_agg(format('t.%I', c), ', ' ORDER BY o) INTO row_expr FROM unnest(cols) WITH ORDINALITY AS u(c, o);
  IF digest_format = 'md5' THEN
    RETURN QUERY EXECUTE format(
      'SELECT count(*)::bigint, coalesce(sum((''x'' || left(md5(ROW(%s)::text), 15))::bit(60)::bigint::numeric), 0)::text FROM %s AS t',
      row_expr, relation);
    RETURN;
  END IF;
  IF digest_format = 'h1' THEN
    BEGIN
      RETURN QUERY EXECUTE format(
        'SELECT count(*)::bigint, ''h1:'' || coalesce(sum(hash_record_extended(ROW(%s), 0)::numeric), 0)::text FROM %s AS t',
        row_expr, relation);
      RETURN;
    EXCEPTION WHEN undefined_function THEN
      NULL;  -- a column type without an extended hash function: the row's text below
    END;
  END IF;
  RETURN QUERY EXECUTE format(
    'SELECT count(*)::bigint, ''t1:'' || coalesce(sum(hashtextextended(ROW(%s)::text, 0)::numeric), 0)::text FROM %s AS t',
    row_expr, relation);
END
`)};`,
    copyForBackup(),
    lockDownStateSchema(),
  ];
}

/**
 * Copies a table's rows into its backup in batches of heap pages, all in the caller's snapshot, and reports each batch
 * as progress: a large table's backup shows how far it got and the time left.
 */
function copyForBackup(): string {
  return named(
    'create the function that copies a table into its backup in batches',
    STATE_SCHEMA,
    `CREATE OR REPLACE FUNCTION ${names.state('copy_for_backup')}(source regclass, target regclass, label text, rows_per_batch int)
RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS ${dollarQuote(`
DECLARE
  cols text;
  pages bigint := pg_relation_size(source) / current_setting('block_size')::int;
  estimate float8;
  pages_per_batch bigint;
  page bigint := 0;
  done bigint := 0;
  n bigint;
BEGIN
  SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols FROM pg_attribute WHERE attrelid = target AND attnum > 0 AND NOT attisdropped;
  SELECT reltuples INTO estimate FROM pg_class WHERE oid = source;
  pages_per_batch := greatest(1, ceil(rows_per_batch / greatest(CASE WHEN estimate > 0 THEN estimate / greatest(pages, 1) ELSE 100 END, 1)));
  LOOP
    -- The last batch has no upper bound: whatever the table holds past the pages counted at the start is copied too.
    IF page + pages_per_batch >= pages THEN
      EXECUTE format('INSERT INTO %s (%s) SELECT %s FROM ONLY %s AS t WHERE t.ctid >= $1', target, cols, cols, source) USING format('(%s,0)', page)::tid;
    ELSE
      EXECUTE format('INSERT INTO %s (%s) SELECT %s FROM ONLY %s AS t WHERE t.ctid >= $1 AND t.ctid < $2', target, cols, cols, source)
        USING format('(%s,0)', page)::tid, format('(%s,0)', page + pages_per_batch)::tid;
    END IF;
    GET DIAGNOSTICS n = ROW_COUNT;
    done := done + n;
    page := least(page + pages_per_batch, pages);
    IF page >= pages THEN estimate := done; END IF;  -- the last report has the count, not the estimate
    RAISE NOTICE '${PROGRESS_PREFIX}%', json_build_object('action', 'backup', 'table', label, 'pagesDone', page, 'pagesTotal', pages, 'rowsDone', done, 'rowsEstimate', greatest(estimate, 0)::bigint);
    EXIT WHEN page >= pages;
  END LOOP;
  RETURN done;
END
`)};`,
  );
}

/** Refuses, before anything changes, when the default org is missing. */
export function preflight(m: MigrationModel): string[] {
  return [
    named(
      'refuse when the default org is missing',
      displayName(m.orgs.name),
      doBlock(`  IF NOT EXISTS (SELECT 1 FROM ${qq(m.orgs.name)} WHERE ${qi(m.orgs.idColumn)} = ${orgValue(m)}) THEN
    RAISE EXCEPTION 'tenant-migration: the default org % does not exist in %', ${ql(m.defaultOrgId)}, ${ql(qq(m.orgs.name))}
      USING HINT = 'Insert that org, or change defaultOrgId in tenant-migration.json.';
  END IF;`),
    ),
  ];
}

/** Which of the names the migration gives `table`'s key, check and index are taken before it starts (a SQL text[]). */
export function keptObjects(m: MigrationModel, table: Required<QualifiedName>): string {
  const constraints = [names.foreignKey(table, m.orgColumn), names.notNullCheck(table, m.orgColumn)].map(ql).join(', ');
  const index = qq({ schema: table.schema, name: names.index(table, m.orgColumn) });
  return `ARRAY(SELECT conname::text FROM pg_constraint WHERE conrelid = ${regclass(table)} AND conname IN (${constraints})
         UNION ALL SELECT ${ql(names.index(table, m.orgColumn))} WHERE to_regclass(${ql(index)}) IS NOT NULL)`;
}

/** True when `name` on `table` was the user's before the migration started: the migration leaves it alone. */
export const keptByUser = (table: Required<QualifiedName>, name: string) =>
  `EXISTS (SELECT 1 FROM ${names.state('snapshot')} WHERE table_schema = ${ql(table.schema)} AND table_name = ${ql(table.name)} AND ${ql(name)} = ANY (kept_objects))`;

export function snapshot(m: MigrationModel): string[] {
  return m.tables.map((t) =>
    named(
      "record the table's row-level security and org column before the migration",
      displayName(t.name),
      `INSERT INTO ${names.state('snapshot')} (table_schema, table_name, had_org_column, rls_enabled, rls_forced, had_permissive_policies, org_not_null, kept_objects)
SELECT ${tableLiteral(t)}, ${hasColumn(t, m.orgColumn)}, c.relrowsecurity, c.relforcerowsecurity,
       EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polpermissive AND p.polname <> ${ql(MEMBER_POLICY)}),
       (SELECT a.attnotnull FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = ${ql(m.orgColumn)} AND NOT a.attisdropped),
       ${keptObjects(m, t.name)}
  FROM pg_class c WHERE c.oid = ${regclass(t.name)}
ON CONFLICT (table_schema, table_name) DO NOTHING;`,
    ),
  );
}

/** Backups of every table, in one snapshot, once per migration; no role but the owner can read them. */
export function backup(m: MigrationModel): string[] {
  const blocks = m.tables.map((t) => {
    const backupTable = names.backupTable(t.name);
    const target = qq(backupTable);
    return `  IF NOT EXISTS (SELECT 1 FROM ${names.state('backups')} WHERE table_schema = ${ql(t.name.schema)} AND table_name = ${ql(t.name.name)} AND status <> 'superseded')
     AND (NOT ${hasColumn(t, m.orgColumn)} OR (SELECT had_org_column FROM ${names.state('snapshot')} WHERE table_schema = ${ql(t.name.schema)} AND table_name = ${ql(t.name.name)})) THEN
    IF to_regclass(${ql(target)}) IS NOT NULL THEN
      RAISE EXCEPTION 'tenant-migration: % exists but is not recorded as a backup', ${ql(target)}
        USING HINT = 'Rename or drop that table (it is not one of ours), then run again.';
    END IF;
    CREATE TABLE ${target} AS TABLE ${qq(t.name)} WITH NO DATA;
    ${revokeFromOthers('TABLE', ql(target))}
${heapTablesOf(t)
  .map(
    (heap) =>
      `    PERFORM ${names.state('copy_for_backup')}(${regclass(heap)}, ${ql(target)}::regclass, ${ql(displayName(heap))}, ${m.loaded.spec.batchSize});`,
  )
  .join('\n')}
    -- The table's stored columns: a generated column is computed again on restore, never written.
    SELECT array_agg(attname::text ORDER BY attnum) INTO cols FROM pg_attribute WHERE attrelid = ${regclass(t.name)} AND attnum > 0 AND NOT attisdropped AND attgenerated = '';
    INSERT INTO ${names.state('backups')} (backup_table, table_schema, table_name, columns, row_count, digest)
    SELECT ${ql(backupTable.name)}, ${tableLiteral(t)}, cols, d.row_count, d.digest FROM ${names.state('table_digest')}(${ql(target)}::regclass, cols) AS d;
    RAISE NOTICE 'tenant-migration: backed up % into %', ${ql(qq(t.name))}, ${ql(target)};
  END IF;`;
  });
  const body = named(
    'back up every table once, in one snapshot, readable by the owner only',
    m.tables.map((t) => displayName(t.name)).join(', '),
    doBlock(blocks.join('\n'), ['grantee oid', 'cols text[]']),
  );
  return ['BEGIN ISOLATION LEVEL REPEATABLE READ;', body, 'COMMIT;'];
}
