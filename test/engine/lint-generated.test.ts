// The generated migration script lints clean, DO blocks' bodies included, with no ignore comments; and what the lint
// reads from a real database (partitions, row-level security, validated checks).
import assert from 'node:assert/strict';
import { loadParser, splitWith } from '../../src/engine/script/parse';
import { MigrationLinter, type LintDiagnostic } from '../../src/engine/sql/lint';
import { readLintCatalog } from '../../src/engine/sql/lint/catalog';
import { Session } from '../../src/engine/db/session';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeWorkspace, withMigration } from '../support/migration-helpers';
import { legacySpec } from '../fixtures/legacy-data';

const TENANT_TABLES = ['public.credentials', 'public.reports', 'public.dashboard_layouts', 'public.tenant_credentials'];

describe('the generated script under the lint', () => {
  let db: TestDatabase;
  let parser: Awaited<ReturnType<typeof loadParser>>;
  before(async () => { parser = await loadParser(); db = await createTestDatabase(); });
  after(async () => { await db.drop(); });

  const lintScript = async (overrides: Record<string, unknown>): Promise<{ text: string; found: LintDiagnostic[] }> => {
    const { text } = await withMigration(db.url, makeWorkspace(overrides), (m) => m.scriptText());
    const found = new MigrationLinter(parser.parseSync, parser.parsePlPgSQLSync).lint(splitWith(parser.scanSync, text), { source: text, tenantTables: TENANT_TABLES });
    return { text, found };
  };

  it('lints clean with no suppressions, and the lint did look inside its DO blocks', async () => {
    const spec = legacySpec();
    const tables = (spec.tables as { name: string; orgFrom: Record<string, unknown> }[]).map((t) =>
      (t.name === 'dashboard_layouts' ? { ...t, orgFrom: { query: { column: 'user_id', sql: 'SELECT DISTINCT ON (user_id) user_id AS key, org_id FROM public.org_members ORDER BY user_id, org_id' } } } : t));
    const { text, found } = await lintScript({ tables });
    assert.doesNotMatch(text, /(tenant-migrate|squawk)-ignore/);
    assert.deepEqual(found.map((d) => `${d.code}: ${d.message}`), []);
    // The same statements, taken out of their DO blocks and their guards, are what the lint warns about.
    const unguarded = text.replace(/ADD CONSTRAINT ("\w+") FOREIGN KEY (.*?) NOT VALID;/, 'ADD CONSTRAINT $1 FOREIGN KEY $2;');
    const codes = new MigrationLinter(parser.parseSync, parser.parsePlPgSQLSync).lint(splitWith(parser.scanSync, unguarded), { source: unguarded, tenantTables: TENANT_TABLES }).map((d) => d.code);
    assert.deepEqual(codes, ['foreign-key-not-valid'], 'a foreign key validated inside a DO block is seen');
  });

  it("finds the spec's unqualified query inside a SECURITY DEFINER trigger whose search_path is pg_catalog, pg_temp", async () => {
    const { found } = await lintScript({});
    assert.deepEqual(found.map((d) => d.code), ['security-definer-search-path']);
    assert.match(found[0]!.message, /org_members without a schema/);
  });

  it('reads partitions, row-level security and validated NOT NULL checks from the database, and lints by them', async () => {
    await db.client.query(`CREATE TABLE "Odd Parts" (id bigint, at date, note text) PARTITION BY RANGE (at);
      CREATE TABLE "Odd Parts_2020" PARTITION OF "Odd Parts" FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
      ALTER TABLE reports ADD CONSTRAINT reports_title_nn CHECK (title IS NOT NULL) NOT VALID;
      ALTER TABLE reports VALIDATE CONSTRAINT reports_title_nn;
      CREATE TABLE lookup_rls (id int); ALTER TABLE lookup_rls ENABLE ROW LEVEL SECURITY;`);
    const session = await Session.open(db.url);
    let catalog;
    try { catalog = await readLintCatalog(session); } finally { await session.close(); }
    assert.deepEqual(catalog.tables.get('Odd Parts'), { partitioned: true, rlsEnabled: false, rlsForced: false, notNullChecked: [] });
    assert.deepEqual(catalog.tables.get('public.reports')!.notNullChecked, ['title']);
    assert.equal(catalog.tables.get('lookup_rls')!.rlsEnabled, true);
    const sql = `SET lock_timeout = '1s';\nSET statement_timeout = 0;\nCREATE INDEX IF NOT EXISTS odd_note ON "Odd Parts" (note);\nALTER TABLE reports ALTER COLUMN title SET NOT NULL;\nALTER TABLE reports ALTER COLUMN credential_id SET NOT NULL;\nDROP POLICY IF EXISTS p ON "Odd Parts";\nCREATE POLICY p ON "Odd Parts" USING (id IS NOT NULL);\nDROP POLICY IF EXISTS q ON lookup_rls;\nCREATE POLICY q ON lookup_rls USING (id > 0);`;
    const found = new MigrationLinter(parser.parseSync, parser.parsePlPgSQLSync).lint(splitWith(parser.scanSync, sql), { source: sql, ...catalog, largeTableRows: 0 });
    assert.deepEqual(found.map((d) => [d.code, d.severity, sql.slice(d.start, d.start + 30)]), [
      ['index-concurrently', 'warning', 'CREATE INDEX IF NOT EXISTS odd'],
      ['set-not-null', 'warning', 'ALTER TABLE reports ALTER COLU'],
      ['rls-policy-without-rls', 'warning', 'CREATE POLICY p ON "Odd Parts"'],
    ]);
    assert.equal(found[0]!.fix, undefined, 'no CONCURRENTLY fix for a partitioned table');
  });
});
