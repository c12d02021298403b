// The generated migration script lints clean, DO blocks' bodies included, with no ignore comments; and what the lint
// reads from a real database (partitions, row-level security, validated checks).
import assert from 'node:assert/strict';
import { loadParser, splitWith } from '../../src/engine/script/parse';
import { MigrationLinter, type LintDiagnostic, type LintOptions } from '../../src/engine/sql-editor/lint';
import { readLintCatalog } from '../../src/engine/sql-editor/lint/catalog';
import { Session } from '../../src/engine/db/session';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeWorkspace, withMigration } from '../support/migration-helpers';

const TENANT_TABLES = ['public.credentials', 'public.reports', 'public.dashboard_layouts', 'public.tenant_credentials'];

describe('the generated script under the lint', () => {
  let db: TestDatabase;
  let parser: Awaited<ReturnType<typeof loadParser>>;
  before(async () => {
    parser = await loadParser();
    db = await createTestDatabase();
  });
  after(async () => {
    await db.drop();
  });

  const lint = (text: string, options: LintOptions = { tenantTables: TENANT_TABLES }): LintDiagnostic[] =>
    new MigrationLinter(parser.parseSync, parser.parsePlPgSQLSync).lint(splitWith(parser.scanSync, text), {
      source: text,
      ...options,
    });

  it('lints clean with no suppressions, and the lint did look inside its DO blocks and functions', async () => {
    const { text } = await withMigration(db.url, makeWorkspace(), (m) => m.scriptText());
    assert.doesNotMatch(text, /(tenant-migrate|squawk)-ignore/);
    assert.deepEqual(
      lint(text).map((d) => `${d.code}: ${d.message}`),
      [],
    );
    assert.deepEqual(
      lint(text, {}).map((d) => `${d.code}: ${d.message}`),
      [],
      'clean with every table counted a tenant table too',
    );
    // The same script with one foreign key left to validate under its lock, and the spec's query unqualified in the
    // SECURITY DEFINER trigger (as the generator wrote it before the names were qualified): both are seen.
    const worse = text
      .replace(/ADD CONSTRAINT ("\w+") FOREIGN KEY (.*?) NOT VALID;/, 'ADD CONSTRAINT $1 FOREIGN KEY $2;')
      .replace(/FROM "public"\.org_members/g, 'FROM org_members');
    assert.notEqual(worse, text);
    const found = lint(worse);
    assert.deepEqual([...new Set(found.map((d) => d.code))].sort(), [
      'foreign-key-not-valid',
      'security-definer-search-path',
    ]);
    assert.match(
      found.find((d) => d.code === 'security-definer-search-path')!.message,
      /names org_members without a schema/,
    );
  });

  it('reads partitions, row-level security and validated NOT NULL checks from the database, and lints by them', async () => {
    await db.client.query(`CREATE TABLE "Odd Parts" (id bigint, at date, note text) PARTITION BY RANGE (at);
      CREATE TABLE "Odd Parts_2020" PARTITION OF "Odd Parts" FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
      ALTER TABLE reports ADD CONSTRAINT reports_title_nn CHECK (title IS NOT NULL) NOT VALID;
      ALTER TABLE reports VALIDATE CONSTRAINT reports_title_nn;
      CREATE TABLE lookup_rls (id int); ALTER TABLE lookup_rls ENABLE ROW LEVEL SECURITY;`);
    const session = await Session.open(db.url);
    let catalog;
    try {
      catalog = await readLintCatalog(session);
    } finally {
      await session.close();
    }
    assert.deepEqual(catalog.tables.get('Odd Parts'), {
      partitioned: true,
      rlsEnabled: false,
      rlsForced: false,
      notNullChecked: [],
      leaves: ['public.Odd Parts_2020'],
    });
    assert.deepEqual(catalog.tables.get('public.reports')!.notNullChecked, ['title']);
    assert.equal(catalog.tables.get('lookup_rls')!.rlsEnabled, true);
    const sql = `SET lock_timeout = '1s';\nSET statement_timeout = 0;\nCREATE INDEX IF NOT EXISTS odd_note ON "Odd Parts" (note);\nALTER TABLE reports ALTER COLUMN title SET NOT NULL;\nALTER TABLE reports ALTER COLUMN credential_id SET NOT NULL;\nDROP POLICY IF EXISTS p ON "Odd Parts";\nCREATE POLICY p ON "Odd Parts" USING (id IS NOT NULL);\nDROP POLICY IF EXISTS q ON lookup_rls;\nCREATE POLICY q ON lookup_rls USING (id > 0);`;
    const found = new MigrationLinter(parser.parseSync, parser.parsePlPgSQLSync).lint(splitWith(parser.scanSync, sql), {
      source: sql,
      ...catalog,
      largeTableRows: 0,
    });
    assert.deepEqual(
      found.map((d) => [d.code, d.severity, sql.slice(d.start, d.start + 30)]),
      [
        ['index-concurrently', 'warning', 'CREATE INDEX IF NOT EXISTS odd'],
        ['set-not-null', 'warning', 'ALTER TABLE reports ALTER COLU'],
        ['rls-policy-without-rls', 'warning', 'CREATE POLICY p ON "Odd Parts"'],
      ],
    );
    assert.equal(found[0]!.fix, undefined, 'no CONCURRENTLY fix for a partitioned table');
  });
});
