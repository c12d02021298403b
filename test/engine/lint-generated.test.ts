// The generated migration script lints clean, DO blocks' bodies included, with no ignore comments.
import assert from 'node:assert/strict';
import { loadParser, splitWith } from '../../src/engine/script/parse';
import { MigrationLinter, type LintDiagnostic } from '../../src/engine/sql/lint';
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
});
