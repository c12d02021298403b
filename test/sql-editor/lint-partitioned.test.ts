// The generated script for partitioned tables lints clean with no suppressions: the lint understands the documented
// per-partition path (SET NOT NULL proven by each leaf's validated CHECK, the parent's foreign key made of the leaves'
// keys validated NOT VALID first). A SET NOT NULL or a foreign key on a partitioned table without that path is still seen.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadParser, splitWith } from '../../src/engine/script/parse';
import { MigrationLinter, type LintDiagnostic, type LintOptions } from '../../src/engine/sql-editor/lint';
import { readLintCatalog } from '../../src/engine/sql-editor/lint/catalog';
import { lintText } from '../../src/engine/sql-editor/lint/lint-text';
import { Session } from '../../src/engine/db/session';
import { GUIDE_SPEC } from '../../src/engine/migration-spec/template';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeWorkspace, withMigration } from '../support/migration-helpers';

const spec = () =>
  makeWorkspace({
    tables: [
      ...GUIDE_SPEC.tables,
      { name: 'events', orgFrom: { parent: { table: 'credentials', column: 'credential_id' } } },
      { name: 'usage_records', orgFrom: { mapping: { column: 'credential_id' } } },
    ],
  });

describe('the generated script for partitioned tables under the lint', () => {
  let db: TestDatabase;
  let parser: Awaited<ReturnType<typeof loadParser>>;
  before(async () => {
    parser = await loadParser();
    db = await createTestDatabase();
    await db.client.query(fs.readFileSync(path.join(__dirname, '../fixtures/partitioned-schema.sql'), 'utf8'));
  });
  after(async () => {
    await db.drop();
  });
  let script = '';
  let facts: LintOptions = {};

  const lint = (text: string, options: LintOptions): LintDiagnostic[] =>
    new MigrationLinter(parser.parseSync, parser.parsePlPgSQLSync).lint(splitWith(parser.scanSync, text), {
      source: text,
      ...options,
    });

  it('lints clean with no suppressions, with the catalog read from the database', async () => {
    const { text } = await withMigration(db.url, spec(), (m) => m.scriptText());
    assert.doesNotMatch(text, /(tenant-migrate|squawk)-ignore/);
    const session = await Session.open(db.url);
    let catalog;
    try {
      catalog = await readLintCatalog(session);
    } finally {
      await session.close();
    }
    assert.equal(catalog.tables.get('events')?.partitioned, true);
    assert.deepEqual(
      lint(text, { ...catalog, largeTableRows: 0 }).map((d) => `${d.code}: ${d.message}`),
      [],
    );
    assert.deepEqual(
      lintText(parser, text, {}).map((d) => `${d.code}: ${d.message}`),
      [],
      "as `tenant-migrate lint` runs it: no catalog, the script's own partition check",
    );
    script = text;
    facts = { ...catalog, largeTableRows: 0 };
  });

  it("still sees a parent's SET NOT NULL or foreign key when one leaf is not proven", () => {
    const unvalidated = script.replace(
      /ALTER TABLE "public"\."events_2026" VALIDATE CONSTRAINT "events_2026_org_id_not_null";/g,
      'NULL;',
    );
    assert.notEqual(unvalidated, script);
    assert.deepEqual(
      lintText(parser, unvalidated, {}).map((d) => `${d.code}: ${d.message.split(':')[0]}`),
      ['set-not-null: SET NOT NULL on public.events.org_id'],
    );
    const leafKeyMissing = script.replace(
      /ALTER TABLE "public"\."usage_eu_1" ADD CONSTRAINT "usage_eu_1_org_id_fkey" FOREIGN KEY [^;]*;/,
      'NULL;',
    );
    assert.notEqual(leafKeyMissing, script);
    assert.deepEqual(
      lintText(parser, leafKeyMissing, {}).map((d) => `${d.code}: ${d.message.split(':')[0]}`),
      ['foreign-key-not-valid: FOREIGN KEY on public.usage_records to public.orgs'],
    );
    // A different key on the leaves does not stand for the parent's.
    const otherKey = script.replace(
      /ALTER TABLE "public"\."events_default" ADD CONSTRAINT "events_default_org_id_fkey" FOREIGN KEY \("org_id"\) REFERENCES "public"\."orgs" \("id"\)/,
      'ALTER TABLE "public"."events_default" ADD CONSTRAINT "events_default_org_id_fkey" FOREIGN KEY ("org_id") REFERENCES "public"."other_orgs" ("id")',
    );
    assert.notEqual(otherKey, script);
    assert.deepEqual(
      lintText(parser, otherKey, {}).map((d) => d.code),
      ['foreign-key-not-valid'],
    );
  });

  it('a hand-written SET NOT NULL or foreign key on a partitioned table of the database is a hazard', () => {
    const sql =
      `SET lock_timeout = '1s';\nALTER TABLE events ALTER COLUMN payload SET NOT NULL;\nALTER TABLE events ADD CONSTRAINT events_credential_fk FOREIGN KEY (credential_id) REFERENCES credentials (id);\n` +
      `ALTER TABLE events_2025 ADD CONSTRAINT e25_cred FOREIGN KEY (credential_id) REFERENCES credentials (id) NOT VALID;\nALTER TABLE events_2025 VALIDATE CONSTRAINT e25_cred;\n` +
      `ALTER TABLE events ADD CONSTRAINT events_credential_fk2 FOREIGN KEY (credential_id) REFERENCES credentials (id);`;
    const codes = ['set-not-null', 'foreign-key-not-valid'];
    const found = lint(sql, facts)
      .filter((d) => codes.includes(d.code))
      .map((d) => `${d.code}: ${d.message.split(':')[0]}`);
    assert.deepEqual(
      found,
      [
        'set-not-null: SET NOT NULL on events.payload',
        'foreign-key-not-valid: FOREIGN KEY on events to credentials',
        'foreign-key-not-valid: FOREIGN KEY on events to credentials',
      ],
      'one leaf of three proven is not the per-partition path',
    );
    const everyLeaf = ['events_2025', 'events_2026', 'events_default']
      .map(
        (l) =>
          `ALTER TABLE ${l} ADD CONSTRAINT ${l}_cred FOREIGN KEY (credential_id) REFERENCES credentials (id) NOT VALID;\nALTER TABLE ${l} VALIDATE CONSTRAINT ${l}_cred;\n` +
          `ALTER TABLE ${l} ADD CONSTRAINT ${l}_payload_nn CHECK (payload IS NOT NULL) NOT VALID;\nALTER TABLE ${l} VALIDATE CONSTRAINT ${l}_payload_nn;\n`,
      )
      .join('');
    const proven = `${everyLeaf}ALTER TABLE events ALTER COLUMN payload SET NOT NULL;\nALTER TABLE events ADD CONSTRAINT events_credential_fk FOREIGN KEY (credential_id) REFERENCES credentials (id);`;
    assert.deepEqual(
      lint(proven, facts).filter((d) => codes.includes(d.code)),
      [],
      'every leaf proven (the database names the leaves): the per-partition path',
    );
  });
});
