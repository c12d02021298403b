// The sections of the generated migration script. Each returns statements that are idempotent on their own.
import { displayName, dollarQuote, quoteIdent as qi, quoteLiteral as ql, quoteQualified as qq } from '../db/sql';
import type { MigrationModel, TableModel } from '../model';
import { ASSIGN_TRIGGER, ISOLATION_POLICY, LEDGER_TRIGGER, MEMBER_POLICY, PROGRESS_PREFIX, STATE_SCHEMA, names, regclass } from '../names';
import { currentOrgExpression } from './context';

const doBlock = (body: string) => `DO ${dollarQuote(`\nBEGIN\n${body}\nEND\n`)};`;
const orgValue = (m: MigrationModel) => `${ql(m.defaultOrgId)}::${m.orgType}`;
const tableLiteral = (t: TableModel) => `${ql(t.name.schema)}, ${ql(t.name.name)}`;
const hasColumn = (t: TableModel, column: string) =>
  `EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = ${regclass(t.name)} AND attname = ${ql(column)} AND NOT attisdropped)`;

export function stateSchema(): string[] {
  const s = names.state;
  return [
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
  ];
}

/** Refuses, before anything changes, when the default org is missing. */
export function preflight(m: MigrationModel): string[] {
  return [doBlock(`  IF NOT EXISTS (SELECT 1 FROM ${qq(m.orgs.name)} WHERE ${qi(m.orgs.idColumn)} = ${orgValue(m)}) THEN
    RAISE EXCEPTION 'tenant-migration: the default org % does not exist in %', ${ql(m.defaultOrgId)}, ${ql(qq(m.orgs.name))}
      USING HINT = 'Insert that org, or change defaultOrgId in tenant-migration.json.';
  END IF;`)];
}

export function snapshot(m: MigrationModel): string[] {
  return m.tables.map((t) => `INSERT INTO ${names.state('snapshot')} (table_schema, table_name, had_org_column, rls_enabled, rls_forced, had_permissive_policies)
SELECT ${tableLiteral(t)}, ${hasColumn(t, m.orgColumn)}, c.relrowsecurity, c.relforcerowsecurity,
       EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polpermissive AND p.polname <> ${ql(MEMBER_POLICY)})
  FROM pg_class c WHERE c.oid = ${regclass(t.name)}
ON CONFLICT (table_schema, table_name) DO NOTHING;`);
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
    CREATE TABLE ${target} AS TABLE ${qq(t.name)};
    REVOKE ALL ON ${target} FROM PUBLIC;
    FOR grantee IN SELECT DISTINCT a.grantee FROM pg_class c, aclexplode(c.relacl) a WHERE c.oid = ${ql(target)}::regclass AND a.grantee <> c.relowner AND a.grantee <> 0 LOOP
      EXECUTE format('REVOKE ALL ON %s FROM %I', ${ql(target)}, pg_get_userbyid(grantee));
    END LOOP;
    SELECT array_agg(attname::text ORDER BY attnum) INTO cols FROM pg_attribute WHERE attrelid = ${ql(target)}::regclass AND attnum > 0 AND NOT attisdropped;
    INSERT INTO ${names.state('backups')} (backup_table, table_schema, table_name, columns, row_count, digest)
    SELECT ${ql(backupTable.name)}, ${tableLiteral(t)}, cols, d.row_count, d.digest FROM ${names.state('table_digest')}(${ql(target)}::regclass, cols) AS d;
    RAISE NOTICE 'tenant-migration: backed up % into %', ${ql(qq(t.name))}, ${ql(target)};
  END IF;`;
  });
  const body = doBlock(blocks.join('\n')).replace('\nBEGIN\n', '\nDECLARE\n  grantee oid;\n  cols text[];\nBEGIN\n');
  return ['BEGIN ISOLATION LEVEL REPEATABLE READ;', body, 'COMMIT;'];
}

export function addColumns(m: MigrationModel): string[] {
  return m.tables.map((t) => `ALTER TABLE ${qq(t.name)} ADD COLUMN IF NOT EXISTS ${qi(m.orgColumn)} ${m.orgType};`);
}

/** The (key, org_id) pairs a mapping or query rule gives, and how errors name their source. */
export function pairSource(m: MigrationModel, t: TableModel): { label: string; pairs: string } {
  return t.rule.kind === 'mapping'
    ? { label: `mapping table ${qq(m.mapping!.name)}`, pairs: `SELECT ${qi(m.mapping!.keyColumn)} AS key, ${qi(m.mapping!.orgColumn)} AS org_id FROM ${qq(m.mapping!.name)}` }
    : { label: `query of ${qq(t.name)}`, pairs: (t.rule as { sql: string }).sql };
}

const conflictError = (label: string, pairs: string) => `RAISE EXCEPTION 'tenant-migration: conflicting org assignments in the %: %', ${ql(label)}, (
        SELECT string_agg(format('%s -> {%s}', c.key, c.orgs), '; ') FROM (
          SELECT q.key, string_agg(DISTINCT q.org_id::text, ', ') AS orgs FROM (${pairs}) AS q
           WHERE q.key IS NOT NULL AND q.org_id IS NOT NULL GROUP BY q.key HAVING count(DISTINCT q.org_id) > 1 ORDER BY q.key LIMIT 5) AS c)
        USING HINT = 'Each key must map to one org: delete the wrong rows, then run again.';`;

/** Adds the pairs whose key the assignment table lacks, in key order; a key with two orgs refuses, naming them. */
const loadNewPairs = (m: MigrationModel, t: TableModel, table: string) => {
  const { label, pairs } = pairSource(m, t);
  return `BEGIN
      INSERT INTO ${table} (key, org_id)
      SELECT DISTINCT q.key, q.org_id FROM (${pairs}) AS q
       WHERE q.key IS NOT NULL AND q.org_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${table} AS a WHERE a.key = q.key)
      ORDER BY q.key;
    EXCEPTION WHEN unique_violation THEN
      ${conflictError(label, pairs)}
    END;
    SELECT string_agg(DISTINCT a.org_id::text, ', ') INTO problem FROM (SELECT a0.org_id FROM ${table} AS a0
      WHERE NOT EXISTS (SELECT 1 FROM ${qq(m.orgs.name)} o WHERE o.${qi(m.orgs.idColumn)} = a0.org_id) LIMIT 5) AS a;
    IF problem IS NOT NULL THEN
      RAISE EXCEPTION 'tenant-migration: the % assigns orgs that do not exist in %: %', ${ql(label)}, ${ql(qq(m.orgs.name))}, problem
        USING HINT = 'Create those orgs, or fix the mapping rows, then run again.';
    END IF;
    ANALYZE ${table};`;
};

const withProblem = (block: string) => block.replace('\nBEGIN\n', '\nDECLARE\n  problem text;\nBEGIN\n');

/**
 * The set-wise (key, org) assignments of mapping and query tables, read into the tool's own state before any
 * user table changes, indexed for the backfill and the triggers. Loaded in key order (the primary key's index grows
 * at its right edge); the primary key is the conflict check: a key with two orgs refuses the run, naming them, and
 * so does an org that does not exist. A refusal leaves no assignment table behind, so the next run reads the fixed rows.
 */
export function assignments(m: MigrationModel): string[] {
  return m.tables.filter((t) => t.rule.kind !== 'parent').map((t) => {
    const table = qq(names.assignTable(t.name));
    return withProblem(doBlock(`  IF to_regclass(${ql(table)}) IS NULL THEN
    CREATE TABLE ${table} (key ${t.keyType} PRIMARY KEY, org_id ${m.orgType} NOT NULL);
    ${loadNewPairs(m, t, table)}
  END IF;`));
  });
}

const beforeBackfill = (t: TableModel, body: string) => withProblem(doBlock(
  `  IF NOT EXISTS (SELECT 1 FROM ${names.state('backfill')} WHERE table_schema = ${ql(t.name.schema)} AND table_name = ${ql(t.name.name)}) THEN
    ${body}
  END IF;`));

/**
 * Until a table's backfill starts, its assignments follow the mapping: before the org triggers exist, they are
 * brought up to it (mapping rows the operator fixed or added since they were read count); once the triggers exist,
 * keys added meanwhile are added too (rows written while the backups were taken had no trigger). From then on the
 * triggers catch every new row and the backfill reads a fixed snapshot.
 */
export function refreshAssignments(m: MigrationModel): string[] {
  return m.tables.filter((t) => t.rule.kind !== 'parent').map((t) => {
    const table = qq(names.assignTable(t.name));
    return beforeBackfill(t, `DELETE FROM ${table} AS a WHERE NOT EXISTS (SELECT 1 FROM (${pairSource(m, t).pairs}) AS q WHERE q.key = a.key AND q.org_id = a.org_id);
    ${loadNewPairs(m, t, table)}`);
  });
}

export function addNewAssignments(m: MigrationModel): string[] {
  return m.tables.filter((t) => t.rule.kind !== 'parent').map((t) => beforeBackfill(t, loadNewPairs(m, t, qq(names.assignTable(t.name)))));
}

function assignBody(m: MigrationModel, t: TableModel): string {
  const org = `NEW.${qi(m.orgColumn)}`;
  const key = `NEW.${qi(t.rule.column)}`;
  const context = currentOrgExpression(m.loaded.spec.tenantContext, m.orgType);
  if (t.rule.kind === 'parent') {
    const parent = m.tables.find((p) => p.name.schema === (t.rule as { parent: { schema: string } }).parent.schema && p.name.name === (t.rule as { parent: { name: string } }).parent.name)!;
    return `  IF ${org} IS NOT NULL THEN RETURN NEW; END IF;
  IF ${key} IS NOT NULL THEN
    SELECT p.${qi(m.orgColumn)} INTO parent_org FROM ${qq(parent.name)} AS p WHERE p.${qi(t.rule.references)} = ${key};
    IF FOUND THEN
      ${org} := parent_org;  -- NULL while the parent waits for its backfill: this row's backfill comes after
      RETURN NEW;
    END IF;
  END IF;
  IF TG_OP = 'INSERT' THEN ${org} := ${context}; END IF;
  ${org} := coalesce(${org}, ${orgValue(m)});
  RETURN NEW;`;
  }
  const live = t.rule.kind === 'mapping'
    ? `SELECT q.${qi(m.mapping!.orgColumn)} INTO ${org} FROM ${qq(m.mapping!.name)} AS q WHERE q.${qi(m.mapping!.keyColumn)} = ${key} AND q.${qi(m.mapping!.orgColumn)} IS NOT NULL LIMIT 1;`
    : `SELECT q.org_id INTO ${org} FROM (${t.rule.sql}) AS q WHERE q.key = ${key} AND q.org_id IS NOT NULL LIMIT 1;`;
  return `  IF ${org} IS NOT NULL THEN RETURN NEW; END IF;
  IF TG_OP = 'INSERT' THEN ${org} := ${context}; END IF;
  IF ${org} IS NULL AND ${key} IS NOT NULL THEN
    SELECT a.org_id INTO ${org} FROM ${qq(names.assignTable(t.name))} AS a WHERE a.key = ${key};
    -- Rows that existed when the assignments were read get the assignment's answer, as their backfill would; only a
    -- new row asks the live source (a mapping table without an index on its key costs a scan per call).
    IF ${org} IS NULL AND TG_OP = 'INSERT' THEN
      ${live}
    END IF;
  END IF;
  ${org} := coalesce(${org}, ${orgValue(m)});
  RETURN NEW;`;
}

/** Rows the application writes while (and after) the migration runs get their org by the same rules, until finalize. */
export function assignTriggers(m: MigrationModel): string[] {
  return m.tables.flatMap((t) => {
    const fn = qq(names.assignFunction(t.name));
    const declare = t.rule.kind === 'parent' ? `DECLARE\n  parent_org ${m.orgType};\n` : '';
    return [
      `CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS ${dollarQuote(`\n${declare}BEGIN\n${assignBody(m, t)}\nEND\n`)};`,
      `REVOKE ALL ON FUNCTION ${fn}() FROM PUBLIC;`,
      `CREATE OR REPLACE TRIGGER ${qi(ASSIGN_TRIGGER)} BEFORE INSERT OR UPDATE ON ${qq(t.name)} FOR EACH ROW EXECUTE FUNCTION ${fn}();`,
    ];
  });
}

/** The org a row gets by its table's rule (for a row of ${t} aliased `t`), the default when the rule gives none. */
function orgByRule(m: MigrationModel, t: TableModel): string {
  if (t.rule.kind === 'parent') {
    return `coalesce((SELECT p.${qi(m.orgColumn)} FROM ${qq(t.rule.parent)} AS p WHERE p.${qi(t.rule.references)} = t.${qi(t.rule.column)} LIMIT 1), ${orgValue(m)})`;
  }
  return `coalesce((SELECT a.org_id FROM ${qq(names.assignTable(t.name))} AS a WHERE a.key = t.${qi(t.rule.column)}), ${orgValue(m)})`;
}

/** A lock wait long enough to outlast deadlock_timeout, so that it cancels an autovacuum in its way; only for locks that block no DML. */
const patientLockTimeout = (m: MigrationModel) => `'${Math.max(10_000, m.loaded.spec.lockTimeoutMs)}ms'`;
const shortLockTimeout = (m: MigrationModel) => `'${m.loaded.spec.lockTimeoutMs}ms'`;
/** A statement whose lock blocks no writer (SHARE UPDATE EXCLUSIVE), run with the patient lock timeout. */
const patiently = (m: MigrationModel, statement: string) =>
  [`SET lock_timeout = ${patientLockTimeout(m)};`, statement, `SET lock_timeout = ${shortLockTimeout(m)};`];

/**
 * Backfill in batches of heap pages, each committed: short row locks, resumable where it stopped. Each batch is
 * sized by time (batchTargetMs, at most twice the last), so it holds its row locks that long whatever a row costs.
 * Each table is vacuumed right after its backfill: otherwise autovacuum starts on its dead rows, and the ACCESS
 * EXCLUSIVE statements that follow would queue behind it (stalling the application queued behind them).
 */
export function backfill(m: MigrationModel): string[] {
  const spec = m.loaded.spec;
  return m.tables.flatMap((t) => {
    const table = qq(t.name);
    const org = qi(m.orgColumn);
    const range = `t.ctid >= format('(%s,0)', page)::tid AND t.ctid < format('(%s,0)', page + pages_per_batch)::tid AND t.${org} IS NULL`;
    let assign: string;
    if (t.rule.kind === 'parent') {
      // Two statements: a child whose parent still waits for its org must stay NULL, not get the default.
      const ref = qi(t.rule.references);
      assign = `    UPDATE ${table} AS t SET ${org} = p.${org} FROM ${qq(t.rule.parent)} AS p
     WHERE ${range} AND p.${ref} = t.${qi(t.rule.column)} AND p.${org} IS NOT NULL;
    GET DIAGNOSTICS n = ROW_COUNT; done := done + n;
    UPDATE ${table} AS t SET ${org} = ${orgValue(m)}
     WHERE ${range} AND NOT EXISTS (SELECT 1 FROM ${qq(t.rule.parent)} AS p WHERE p.${ref} = t.${qi(t.rule.column)});`;
    } else {
      assign = `    UPDATE ${table} AS t SET ${org} = ${orgByRule(m, t)}
     WHERE ${range};`;
    }
    const where = `table_schema = ${ql(t.name.schema)} AND table_name = ${ql(t.name.name)}`;
    const body = `DECLARE
  page bigint;
  last_page bigint;
  done bigint;
  n bigint;
  estimate float8;
  pages_per_batch int;
  max_pages int;
  batch_started timestamptz;
  batch_ms float8;
BEGIN
  INSERT INTO ${names.state('backfill')} (table_schema, table_name, next_page, last_page)
  VALUES (${tableLiteral(t)}, 0, pg_relation_size(${regclass(t.name)}) / current_setting('block_size')::int)
  ON CONFLICT (table_schema, table_name) DO NOTHING;
  SELECT b.next_page, b.last_page, b.rows_done INTO page, last_page, done FROM ${names.state('backfill')} AS b WHERE ${where} AND b.completed_at IS NULL;
  IF NOT FOUND THEN RETURN; END IF;
  SELECT greatest(reltuples, 0) INTO estimate FROM pg_class WHERE oid = ${regclass(t.name)};
  pages_per_batch := greatest(1, ceil(${spec.batchSize} / greatest(estimate / greatest(last_page, 1), 1)))::int;
  max_pages := 4 * pages_per_batch;
  COMMIT;
  WHILE page <= last_page LOOP
    batch_started := clock_timestamp();
    -- Replica mode for this batch's transaction: the table's own triggers (updated_at and the like) must not fire,
    -- so that the backfill changes nothing but the org column.
    PERFORM set_config('session_replication_role', 'replica', true);
${assign}
    GET DIAGNOSTICS n = ROW_COUNT; done := done + n;
    page := page + pages_per_batch;
    UPDATE ${names.state('backfill')} SET next_page = page, rows_done = done WHERE ${where};
    COMMIT;
    RAISE NOTICE '${PROGRESS_PREFIX}%', json_build_object('table', ${ql(displayName(t.name))}, 'pagesDone', least(page, last_page + 1), 'pagesTotal', last_page + 1, 'rowsDone', done, 'rowsEstimate', estimate::bigint);
    batch_ms := 1000 * extract(epoch FROM clock_timestamp() - batch_started);
    -- At most twice the last batch, and at most four first batches: cheap pages (deleted or already assigned rows) must
    -- not grow a batch that the next dense pages would make long.
    pages_per_batch := greatest(1, least(max_pages, 2 * pages_per_batch, floor(pages_per_batch::float8 * ${spec.batchTargetMs} / greatest(batch_ms, 1))))::int;
  END LOOP;
  UPDATE ${names.state('backfill')} SET completed_at = now() WHERE ${where};
END
`;
    return [
      `DO ${dollarQuote(`\n${body}`)};`,
      ...patiently(m, `VACUUM (ANALYZE) ${table};`),
    ];
  });
}

/** NOT NULL through a validated CHECK, the foreign key NOT VALID then validated: no long ACCESS EXCLUSIVE lock. */
export function constraints(m: MigrationModel): string[] {
  const org = qi(m.orgColumn);
  return m.tables.flatMap((t) => {
    const table = qq(t.name);
    const check = names.notNullCheck(t.name, m.orgColumn);
    const fkey = names.foreignKey(t.name, m.orgColumn);
    const conExists = (name: string, extra = '') => `EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = ${regclass(t.name)} AND conname = ${ql(name)}${extra})`;
    const notNull = `(SELECT attnotnull FROM pg_attribute WHERE attrelid = ${regclass(t.name)} AND attname = ${ql(m.orgColumn)})`;
    return [
      doBlock(`  IF NOT ${notNull} AND NOT ${conExists(check)} THEN
    ALTER TABLE ${table} ADD CONSTRAINT ${qi(check)} CHECK (${org} IS NOT NULL) NOT VALID;
  END IF;`),
      // VALIDATE takes SHARE UPDATE EXCLUSIVE, which blocks no writer while it waits: it may wait long enough to
      // cancel an autovacuum. A row still without an org here was inserted by an application transaction that
      // committed after the backfill passed its page; ADD CONSTRAINT waited for every such transaction, and the
      // check holds for every row written since, so one sweep makes the check valid.
      doBlock(`  IF ${conExists(check, ' AND NOT convalidated')} THEN
    SET LOCAL lock_timeout = ${patientLockTimeout(m)};
    BEGIN
      ALTER TABLE ${table} VALIDATE CONSTRAINT ${qi(check)};
    EXCEPTION WHEN check_violation THEN
      PERFORM set_config('session_replication_role', 'replica', true);
      UPDATE ${table} AS t SET ${org} = ${orgByRule(m, t)} WHERE t.${org} IS NULL;
      PERFORM set_config('session_replication_role', 'origin', true);
      ALTER TABLE ${table} VALIDATE CONSTRAINT ${qi(check)};
    END;
  END IF;`),
      doBlock(`  IF NOT ${notNull} THEN
    ALTER TABLE ${table} ALTER COLUMN ${org} SET NOT NULL;
  END IF;
  IF ${conExists(check)} THEN
    ALTER TABLE ${table} DROP CONSTRAINT ${qi(check)};
  END IF;`),
      doBlock(`  IF NOT ${conExists(fkey)} THEN
    ALTER TABLE ${table} ADD CONSTRAINT ${qi(fkey)} FOREIGN KEY (${org}) REFERENCES ${qq(m.orgs.name)} (${qi(m.orgs.idColumn)}) NOT VALID;
  END IF;`),
      doBlock(`  IF ${conExists(fkey, ' AND NOT convalidated')} THEN
    SET LOCAL lock_timeout = ${patientLockTimeout(m)};
    ALTER TABLE ${table} VALIDATE CONSTRAINT ${qi(fkey)};
  END IF;`),
    ];
  });
}

/** Indexes CONCURRENTLY; an index left INVALID by an interrupted build is dropped first (IF NOT EXISTS would skip it). */
export function indexes(m: MigrationModel): string[] {
  return m.tables.flatMap((t) => {
    const index = names.index(t.name, m.orgColumn);
    const qualified = qq({ schema: t.name.schema, name: index });
    return [
      doBlock(`  IF EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass(${ql(qualified)}) AND NOT indisvalid) THEN
    DROP INDEX ${qualified};
  END IF;`),
      ...patiently(m, `CREATE INDEX CONCURRENTLY IF NOT EXISTS ${qi(index)} ON ${qq(t.name)} (${qi(m.orgColumn)});`),
      // A build that timed out leaves an INVALID index, which a retried IF NOT EXISTS would skip.
      doBlock(`  IF EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass(${ql(qualified)}) AND NOT indisvalid) THEN
    RAISE EXCEPTION 'tenant-migration: the index % was left invalid by an interrupted build', ${ql(qualified)}
      USING HINT = 'Run again: the invalid index is dropped and built again (a long transaction may have held it up: see pg_stat_activity).';
  END IF;`),
    ];
  });
}

/** The tenant ledger: one row per credential, its org and where that came from; kept in sync by a trigger. */
export function ledger(m: MigrationModel): string[] {
  if (!m.ledger) return [];
  const { from, keyColumn, keyType } = m.ledger;
  const ledgerTable = qq(m.ledger.name);
  const fn = qq(names.ledgerFunction(from.name));
  const org = qi(m.orgColumn);
  const source = from.rule.kind === 'parent'
    ? `'parent'`
    : `CASE WHEN a.key IS NOT NULL THEN ${ql(from.rule.kind)} ELSE 'default' END`;
  const join = from.rule.kind === 'parent' ? '' : ` LEFT JOIN ${qq(names.assignTable(from.name))} AS a ON a.key = c.${qi(from.rule.column)}`;
  const credFk = names.foreignKey(m.ledger.name, 'credential_id');
  const orgFk = names.foreignKey(m.ledger.name, 'org_id');
  const conExists = (name: string, extra = '') => `EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = ${regclass(m.ledger!.name)} AND conname = ${ql(name)}${extra})`;
  return [
    `CREATE TABLE IF NOT EXISTS ${ledgerTable} (
  credential_id ${keyType} PRIMARY KEY,
  org_id ${m.orgType} NOT NULL,
  source text NOT NULL,
  assigned_at timestamptz NOT NULL DEFAULT now()
);`,
    // The ledger is readable by exactly the roles that can read the credentials (row-level security scopes it to the org).
    doBlock(`  FOR grant_row IN SELECT pg_get_userbyid(a.grantee) AS role, a.privilege_type FROM pg_class c, aclexplode(c.relacl) a
      WHERE c.oid = ${regclass(from.name)} AND a.grantee <> 0 AND a.grantee <> c.relowner AND a.privilege_type IN ('SELECT', 'INSERT', 'UPDATE', 'DELETE') LOOP
    EXECUTE format('GRANT %s ON ${ledgerTable.replace(/%/g, '%%')} TO %I', grant_row.privilege_type, grant_row.role);
  END LOOP;`).replace('\nBEGIN\n', '\nDECLARE\n  grant_row record;\nBEGIN\n'),
    `CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS ${dollarQuote(`
BEGIN
  IF NEW.${org} IS NULL THEN RETURN NULL; END IF;
  INSERT INTO ${ledgerTable} AS l (credential_id, org_id, source) VALUES (NEW.${qi(keyColumn)}, NEW.${org}, 'live')
  ON CONFLICT (credential_id) DO UPDATE SET org_id = EXCLUDED.org_id, source = 'live', assigned_at = now()
  WHERE l.org_id IS DISTINCT FROM EXCLUDED.org_id;
  RETURN NULL;
END
`)};`,
    `REVOKE ALL ON FUNCTION ${fn}() FROM PUBLIC;`,
    `CREATE OR REPLACE TRIGGER ${qi(LEDGER_TRIGGER)} AFTER INSERT OR UPDATE OF ${org} ON ${qq(from.name)} FOR EACH ROW EXECUTE FUNCTION ${fn}();`,
    `INSERT INTO ${ledgerTable} (credential_id, org_id, source)
SELECT c.${qi(keyColumn)}, c.${org}, ${source} FROM ${qq(from.name)} AS c${join}
ORDER BY c.${qi(keyColumn)}
ON CONFLICT (credential_id) DO NOTHING;`,
    doBlock(`  -- The application locks ${qq(from.name)} before the ledger (the sync trigger): take them in that order too.
  LOCK TABLE ${qq(from.name)} IN SHARE ROW EXCLUSIVE MODE;
  IF NOT ${conExists(credFk)} THEN
    ALTER TABLE ${ledgerTable} ADD CONSTRAINT ${qi(credFk)} FOREIGN KEY (credential_id) REFERENCES ${qq(from.name)} (${qi(keyColumn)}) ON DELETE CASCADE NOT VALID;
  END IF;
  IF NOT ${conExists(orgFk)} THEN
    ALTER TABLE ${ledgerTable} ADD CONSTRAINT ${qi(orgFk)} FOREIGN KEY (org_id) REFERENCES ${qq(m.orgs.name)} (${qi(m.orgs.idColumn)}) NOT VALID;
  END IF;`),
    `DELETE FROM ${ledgerTable} AS l WHERE NOT EXISTS (SELECT 1 FROM ${qq(from.name)} AS c WHERE c.${qi(keyColumn)} = l.credential_id);`,
    doBlock(`  SET LOCAL lock_timeout = ${patientLockTimeout(m)};
  IF ${conExists(credFk, ' AND NOT convalidated')} THEN
    ALTER TABLE ${ledgerTable} VALIDATE CONSTRAINT ${qi(credFk)};
  END IF;
  IF ${conExists(orgFk, ' AND NOT convalidated')} THEN
    ALTER TABLE ${ledgerTable} VALIDATE CONSTRAINT ${qi(orgFk)};
  END IF;`),
  ];
}

/** Row-level security: enabled, forced and the policies, each table in one transaction. */
export function rowLevelSecurity(m: MigrationModel): string[] {
  const current = currentOrgExpression(m.loaded.spec.tenantContext, m.orgType);
  const targets: { name: { schema: string; name: string }; snapshot: boolean; column: string }[] =
    m.tables.map((t) => ({ name: t.name, snapshot: true, column: m.orgColumn }));
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
