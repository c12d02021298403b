// Bad and good cases for every lint rule (written from the rules' descriptions, squawk's public docs among them).
import type { LintOptions } from '../../src/engine/sql-editor/lint';

export interface RuleCase {
  readonly rule: string;
  readonly bad: readonly string[];
  readonly good: readonly string[];
  readonly options?: LintOptions;
  /** For the fix: the bad case (index) whose fix is applied, and whether the fixed file lints fully clean. */
  readonly fix?: { readonly bad: number; readonly clean: boolean };
}

/** Both timeouts set, so that a case shows the rule it is about and nothing else. */
export const PRE = "SET lock_timeout = '1s';\nSET statement_timeout = '5min';\n";
const NEW_TABLE = 'CREATE TABLE IF NOT EXISTS fresh (a int, b int);\n';

export const CASES: readonly RuleCase[] = [
  {
    rule: 'lock-timeout',
    bad: [
      "SET statement_timeout = '1min';\nALTER TABLE t ADD COLUMN IF NOT EXISTS a int;",
      'SET statement_timeout = 0;\nDO $$ BEGIN ALTER TABLE t DROP COLUMN IF EXISTS a; END $$;',
    ],
    good: [
      "SET lock_timeout = '1s';\nALTER TABLE t ADD COLUMN IF NOT EXISTS a int;",
      `SET statement_timeout = 0;\n${NEW_TABLE}ALTER TABLE fresh ADD COLUMN IF NOT EXISTS c int;`,
      'SELECT 1;',
    ],
    fix: { bad: 0, clean: true },
  },
  {
    rule: 'statement-timeout',
    bad: ["SET lock_timeout = '1s';\nCREATE INDEX IF NOT EXISTS i ON t (a);"],
    good: ["SET lock_timeout = '1s';\nSET statement_timeout = 0;\nALTER TABLE t ADD COLUMN IF NOT EXISTS a int;"],
    options: { rules: { 'index-concurrently': false } },
    fix: { bad: 0, clean: true },
  },
  {
    rule: 'volatile-default',
    bad: [
      `${PRE}ALTER TABLE t ADD COLUMN IF NOT EXISTS a uuid DEFAULT gen_random_uuid();`,
      `${PRE}ALTER TABLE t ADD COLUMN IF NOT EXISTS a double precision DEFAULT random();`,
      `${PRE}ALTER TABLE t ADD COLUMN IF NOT EXISTS a int GENERATED ALWAYS AS (b * 2) STORED;`,
    ],
    good: [
      `${PRE}ALTER TABLE t ADD COLUMN IF NOT EXISTS a timestamptz DEFAULT now();`,
      `${PRE}ALTER TABLE t ADD COLUMN IF NOT EXISTS a int DEFAULT 0;`,
      `${PRE}${NEW_TABLE}ALTER TABLE fresh ADD COLUMN IF NOT EXISTS c uuid DEFAULT gen_random_uuid();`,
    ],
  },
  {
    rule: 'column-type-change',
    bad: [`${PRE}ALTER TABLE t ALTER COLUMN a TYPE bigint;`],
    good: [
      `${PRE}${NEW_TABLE}ALTER TABLE fresh ALTER COLUMN a TYPE bigint;`,
      `${PRE}ALTER TABLE t ALTER COLUMN a SET DEFAULT 0;`,
    ],
  },
  {
    rule: 'serial-primary-key',
    bad: [
      `${PRE}ALTER TABLE t ADD COLUMN IF NOT EXISTS id bigserial PRIMARY KEY;`,
      `${PRE}ALTER TABLE t ADD PRIMARY KEY (id);`,
      `${PRE}ALTER TABLE t ADD COLUMN IF NOT EXISTS id bigint GENERATED ALWAYS AS IDENTITY;`,
    ],
    good: [
      `${PRE}ALTER TABLE t ADD CONSTRAINT t_pkey PRIMARY KEY USING INDEX t_id_key;`,
      `${PRE}ALTER TABLE t ADD COLUMN IF NOT EXISTS id bigint;`,
    ],
  },
  {
    rule: 'required-column',
    bad: [`${PRE}ALTER TABLE t ADD COLUMN IF NOT EXISTS a int NOT NULL;`],
    good: [
      `${PRE}ALTER TABLE t ADD COLUMN IF NOT EXISTS a int NOT NULL DEFAULT 0;`,
      `${PRE}${NEW_TABLE}ALTER TABLE fresh ADD COLUMN IF NOT EXISTS c int NOT NULL;`,
    ],
  },
  {
    rule: 'set-not-null',
    bad: [
      `${PRE}ALTER TABLE t ALTER COLUMN a SET NOT NULL;`,
      `${PRE}ALTER TABLE t ADD CONSTRAINT c CHECK (a IS NOT NULL) NOT VALID;\nALTER TABLE t ALTER COLUMN a SET NOT NULL;`,
      `${PRE}ALTER TABLE t ADD CONSTRAINT c CHECK (b IS NOT NULL) NOT VALID;\nALTER TABLE t VALIDATE CONSTRAINT c;\nALTER TABLE t ALTER COLUMN a SET NOT NULL;`,
    ],
    good: [
      `${PRE}ALTER TABLE t ADD CONSTRAINT c CHECK (a IS NOT NULL) NOT VALID;\nALTER TABLE t VALIDATE CONSTRAINT c;\nALTER TABLE t ALTER COLUMN a SET NOT NULL;`,
      `${PRE}DO $$ BEGIN ALTER TABLE t ADD CONSTRAINT c CHECK (a IS NOT NULL) NOT VALID; END $$;\nDO $$ BEGIN ALTER TABLE t VALIDATE CONSTRAINT c; END $$;\nDO $$ BEGIN ALTER TABLE t ALTER COLUMN a SET NOT NULL; END $$;`,
    ],
    fix: { bad: 0, clean: true },
  },
  {
    rule: 'check-not-valid',
    bad: [`${PRE}ALTER TABLE t DROP CONSTRAINT IF EXISTS c;\nALTER TABLE t ADD CONSTRAINT c CHECK (a > 0);`],
    good: [
      `${PRE}ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID;`,
      `${PRE}${NEW_TABLE}ALTER TABLE fresh ADD CONSTRAINT c CHECK (a > 0);`,
    ],
    fix: { bad: 0, clean: true },
  },
  {
    rule: 'foreign-key-not-valid',
    bad: [
      `${PRE}ALTER TABLE t DROP CONSTRAINT IF EXISTS f;\nALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (o) REFERENCES orgs (id);`,
      `${PRE}ALTER TABLE t ADD COLUMN IF NOT EXISTS o uuid REFERENCES orgs (id);`,
    ],
    good: [
      `${PRE}ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (o) REFERENCES orgs (id) NOT VALID;`,
      `${PRE}${NEW_TABLE}ALTER TABLE fresh ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES orgs (id);`,
    ],
    fix: { bad: 0, clean: true },
  },
  {
    rule: 'validate-in-same-transaction',
    bad: [
      `${PRE}BEGIN;\nALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID;\nALTER TABLE t VALIDATE CONSTRAINT c;\nCOMMIT;`,
      `${PRE}DO $$ BEGIN ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (o) REFERENCES orgs (id) NOT VALID; ALTER TABLE t VALIDATE CONSTRAINT f; END $$;`,
    ],
    good: [
      `${PRE}BEGIN;\nALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID;\nCOMMIT;\nBEGIN;\nALTER TABLE t VALIDATE CONSTRAINT c;\nCOMMIT;`,
    ],
  },
  {
    rule: 'unique-without-index',
    bad: [
      `${PRE}ALTER TABLE t DROP CONSTRAINT IF EXISTS u;\nALTER TABLE t ADD CONSTRAINT u UNIQUE (a, b);`,
      `${PRE}ALTER TABLE t ADD COLUMN IF NOT EXISTS a int UNIQUE;`,
    ],
    good: [`${PRE}ALTER TABLE t ADD CONSTRAINT u UNIQUE USING INDEX u;`],
    fix: { bad: 0, clean: true },
  },
  {
    rule: 'index-concurrently',
    bad: [
      `${PRE}CREATE INDEX IF NOT EXISTS i ON t (a);`,
      `${PRE}create unique index if not exists "Odd Name" on "My Table" (a);`,
    ],
    good: [
      `${PRE}CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a);`,
      `${PRE}${NEW_TABLE}CREATE INDEX IF NOT EXISTS i ON fresh (a);`,
      `${PRE}CREATE INDEX IF NOT EXISTS i ON ONLY parted (a);`,
    ],
    fix: { bad: 1, clean: true },
  },
  {
    rule: 'drop-index-concurrently',
    bad: [`${PRE}DROP INDEX IF EXISTS i;`],
    good: [
      `${PRE}DROP INDEX CONCURRENTLY IF EXISTS i;`,
      `${PRE}DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass('i') AND NOT indisvalid) THEN DROP INDEX i; END IF; END $$;`,
    ],
    fix: { bad: 0, clean: true },
  },
  {
    rule: 'reindex-concurrently',
    bad: [`${PRE}REINDEX INDEX i;`, `${PRE}REINDEX TABLE t;`],
    good: [`${PRE}REINDEX INDEX CONCURRENTLY i;`, `${PRE}REINDEX (CONCURRENTLY) TABLE t;`],
    fix: { bad: 1, clean: true },
  },
  {
    rule: 'detach-partition-concurrently',
    bad: [`${PRE}ALTER TABLE parted DETACH PARTITION parted_2020;`],
    good: [`${PRE}ALTER TABLE parted DETACH PARTITION parted_2020 CONCURRENTLY;`],
    fix: { bad: 0, clean: true },
  },
  {
    rule: 'whole-table-write',
    bad: [`${PRE}UPDATE t SET a = 1;`, `${PRE}DELETE FROM t;`],
    good: [`${PRE}UPDATE t SET a = 1 WHERE id BETWEEN 1 AND 1000;`],
  },
  {
    rule: 'concurrently-in-transaction',
    bad: [
      `${PRE}BEGIN;\nCREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a);\nCOMMIT;`,
      `${PRE}DO $$ BEGIN CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a); END $$;`,
    ],
    good: [
      `${PRE}CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a);`,
      `${PRE}BEGIN;\nCOMMIT;\nDROP INDEX CONCURRENTLY IF EXISTS i;`,
    ],
  },
  {
    rule: 'transaction-nesting',
    bad: [`${PRE}BEGIN;\nBEGIN;\nCOMMIT;`],
    good: [`${PRE}BEGIN;\nCOMMIT;\nBEGIN;\nCOMMIT;`],
  },
  {
    rule: 'uncommitted-transaction',
    bad: [
      `${PRE}BEGIN;\nALTER TABLE t ADD COLUMN IF NOT EXISTS a int;`,
      `${PRE}BEGIN;\nALTER TABLE t ADD COLUMN IF NOT EXISTS a int -- no semicolon\n`,
    ],
    good: [`${PRE}BEGIN;\nALTER TABLE t ADD COLUMN IF NOT EXISTS a int;\nCOMMIT;`],
    fix: { bad: 1, clean: true },
  },
  {
    rule: 'rename-column',
    bad: [`${PRE}ALTER TABLE t RENAME COLUMN a TO b;`],
    good: [`${PRE}${NEW_TABLE}ALTER TABLE fresh RENAME COLUMN a TO c;`],
  },
  {
    rule: 'rename-table',
    bad: [`${PRE}ALTER TABLE t RENAME TO t2;`],
    good: [`${PRE}${NEW_TABLE}ALTER TABLE fresh RENAME TO fresher;`],
  },
  {
    rule: 'drop-column',
    bad: [`${PRE}ALTER TABLE t DROP COLUMN IF EXISTS a;`],
    good: [`${PRE}${NEW_TABLE}ALTER TABLE fresh DROP COLUMN IF EXISTS b;`],
  },
  {
    rule: 'drop-not-null',
    bad: [`${PRE}ALTER TABLE t ALTER COLUMN a DROP NOT NULL;`],
    good: [`${PRE}ALTER TABLE t ALTER COLUMN a DROP DEFAULT;`],
  },
  {
    rule: 'drop-table',
    bad: [`${PRE}DROP TABLE IF EXISTS t;`],
    good: [`${PRE}${NEW_TABLE}DROP TABLE IF EXISTS fresh;`],
  },
  { rule: 'drop-database', bad: ['DROP DATABASE prod;'], good: ['SELECT 1;'] },
  { rule: 'truncate-cascade', bad: [`${PRE}TRUNCATE t CASCADE;`], good: [`${PRE}TRUNCATE t;`] },
  {
    rule: 'not-idempotent',
    bad: [
      `${PRE}CREATE TABLE fresh (a int);`,
      `${PRE}drop table t;`,
      `${PRE}ALTER TABLE t ADD COLUMN a int;`,
      `${PRE}ALTER TABLE t ADD a int, ADD COLUMN IF NOT EXISTS b int, ADD c int;`,
      `${PRE}ALTER TABLE t DROP CONSTRAINT IF EXISTS x, DROP CONSTRAINT c;`,
      `${PRE}CREATE INDEX CONCURRENTLY i ON t (a);`,
      `${PRE}ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID;`,
      `${PRE}CREATE POLICY p ON t USING (org_id = 1);`,
    ],
    good: [
      `${PRE}BEGIN;\nCREATE TABLE fresh (a int);\nCOMMIT;`,
      `${PRE}DO $$ BEGIN IF to_regclass('fresh') IS NULL THEN CREATE TABLE fresh (a int); END IF; END $$;`,
      `${PRE}CREATE TABLE IF NOT EXISTS fresh (a int);`,
      `${PRE}ALTER TABLE t DROP CONSTRAINT IF EXISTS c;\nALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID;`,
      `${PRE}DROP POLICY IF EXISTS p ON public.t;\nCREATE POLICY p ON t USING (org_id = 1);`,
      `${PRE}DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'c') THEN ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID; END IF; END $$;`,
    ],
    options: { rules: { 'drop-table': false, 'drop-column': false } },
    fix: { bad: 2, clean: true },
  },
  {
    rule: 'rls-enable-without-force',
    bad: [`${PRE}ALTER TABLE t ENABLE ROW LEVEL SECURITY;`],
    good: [
      `${PRE}ALTER TABLE t ENABLE ROW LEVEL SECURITY;\nALTER TABLE t FORCE ROW LEVEL SECURITY;`,
      `${PRE}ALTER TABLE t ENABLE ROW LEVEL SECURITY;\nCREATE POLICY tenant_migration_legacy_access ON t AS RESTRICTIVE USING (true);`,
    ],
    fix: { bad: 0, clean: true },
  },
  {
    rule: 'rls-permissive-true',
    bad: [
      `${PRE}CREATE POLICY p ON t USING (true);`,
      `${PRE}CREATE POLICY p ON t FOR INSERT TO authenticated WITH CHECK (true);`,
    ],
    good: [
      `${PRE}CREATE POLICY p ON t TO service_role USING (true);`,
      `${PRE}CREATE POLICY p ON t AS RESTRICTIVE USING (true);`,
      `${PRE}CREATE POLICY p ON t TO auditor USING (true);`,
      `${PRE}CREATE POLICY p ON t USING (org_id = current_setting('app.org')::uuid);`,
      `${PRE}CREATE POLICY iso ON t AS RESTRICTIVE USING (org_id = current_setting('app.org')::uuid);\nCREATE POLICY p ON t USING (true);`,
    ],
    options: { crossTenantRoles: ['auditor'] },
  },
  {
    rule: 'rls-policy-without-rls',
    bad: [`${PRE}CREATE POLICY p ON t USING (org_id = 1);`],
    good: [
      `${PRE}ALTER TABLE t ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;\nCREATE POLICY p ON t USING (org_id = 1);`,
    ],
  },
  {
    rule: 'rls-view-security-invoker',
    bad: [
      `${PRE}ALTER TABLE t ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;\nCREATE VIEW v AS SELECT * FROM t;`,
      `${PRE}CREATE OR REPLACE VIEW "Odd"."V" (x) AS SELECT a FROM tenants_t;`,
    ],
    good: [
      `${PRE}ALTER TABLE t ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;\nCREATE VIEW v WITH (security_invoker = true) AS SELECT * FROM t;`,
      `${PRE}CREATE VIEW v AS SELECT * FROM lookup;`,
    ],
    options: { tenantTables: ['public.t', 'tenants_t'] },
    fix: { bad: 0, clean: true },
  },
  {
    rule: 'security-definer-search-path',
    bad: [
      `${PRE}CREATE FUNCTION f() RETURNS int LANGUAGE sql SECURITY DEFINER AS $$ SELECT 1 $$;`,
      `${PRE}CREATE FUNCTION f() RETURNS int LANGUAGE sql SECURITY DEFINER SET search_path = pg_temp, public AS $$ SELECT 1 $$;`,
      `${PRE}CREATE FUNCTION f() RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$ BEGIN RETURN (SELECT count(*) FROM t); END $$;`,
    ],
    good: [
      `${PRE}CREATE FUNCTION f() RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$ BEGIN RETURN (SELECT count(*) FROM public.t); END $$;`,
      `${PRE}CREATE FUNCTION f() RETURNS bigint LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$ SELECT count(*) FROM t $$;`,
    ],
  },
];
