// Bad input through the CLI (node dist/cli.js run --yes, the command that writes the most): every case must end in
// ONE line naming the field or object and the fix, the right exit code, and a database exactly as it was before.
import assert from 'node:assert/strict';
import type pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { assertSameDigest, buildCli, databaseDigest, Workspace } from '../support/cli';
import { legacySpec } from '../fixtures/legacy-data';

type Spec = Record<string, unknown>;
const TABLES = legacySpec().tables as Spec[];
const [CREDENTIALS, REPORTS, LAYOUTS] = TABLES as [Spec, Spec, Spec];
const withTables = (...tables: Spec[]) => legacySpec({ tables });
const layoutsQuery = (sql: string) => withTables(CREDENTIALS, REPORTS, { name: 'dashboard_layouts', orgFrom: { query: { column: 'user_id', sql } } });
const INJECT = 'x; DROP TABLE orgs; --';

interface Case {
  readonly title: string;
  readonly spec: Spec;
  readonly setup?: (client: pg.Client) => Promise<unknown>;
  readonly code?: number;
  /** What is wrong: must name the field or the object. */
  readonly what: RegExp;
  /** What to do next (after " — "). */
  readonly next: RegExp;
}

const SPEC_CASES: Case[] = [
  { title: 'batchSize is a string', spec: legacySpec({ batchSize: 'x' }), what: /tenant-migration\.json is invalid: field batchSize: is the text "x", expected a number/, next: /Fix the field named/ },
  { title: 'tables is not an array', spec: legacySpec({ tables: { name: 'credentials' } }), what: /invalid: field tables: is an object, expected a list/, next: /Fix the field named/ },
  { title: 'orgFrom with two keys', spec: withTables({ name: 'credentials', orgFrom: { mapping: { column: 'id' }, parent: { table: 'users', column: 'user_id' } } }, REPORTS, LAYOUTS), what: /invalid: field tables\[0\]\.orgFrom: must be one of \{ "mapping"/, next: /Fix the field named/ },
  { title: 'lockTimeoutMs below its minimum', spec: legacySpec({ lockTimeoutMs: -5 }), what: /invalid: field lockTimeoutMs: is the number -5, must be at least 10/, next: /Fix the field named/ },
  { title: 'a table listed twice', spec: withTables(CREDENTIALS, REPORTS, LAYOUTS, CREDENTIALS), what: /tables\[3\]\.name: "credentials" is listed twice \(also tables\[0\]\)/, next: /List each table once/ },
  { title: 'a mapping rule without a mapping section', spec: legacySpec({ mapping: undefined }), what: /tables\[0\]\.orgFrom uses "mapping" but the spec has no "mapping" section/, next: /Add "mapping"/ },
  { title: 'defaultOrgId that is not a uuid (orgs.id is uuid)', spec: legacySpec({ defaultOrgId: 'not-a-uuid' }), what: /defaultOrgId "not-a-uuid" is not a valid uuid, the type of the orgs id column/, next: /Write a uuid value/ },
  { title: 'defaultOrgId given as a number for a uuid orgs.id', spec: legacySpec({ defaultOrgId: 42 }), what: /defaultOrgId "42" is not a valid uuid/, next: /Write a uuid value/ },
  { title: 'a missing table', spec: withTables(CREDENTIALS, REPORTS, LAYOUTS, { name: 'invoices', orgFrom: { mapping: { column: 'id' } } }), what: /Table invoices \(spec field tables\[3\]\.name\) does not exist in tm_test_\w+/, next: /Create it, or fix the name in the spec/ },
  { title: 'a missing orgs table', spec: legacySpec({ orgs: { table: 'organisations', idColumn: 'id' } }), what: /Table organisations \(spec field orgs\.table\) does not exist/, next: /Create it, or fix the name/ },
  { title: 'a schema-qualified name in a schema that does not exist', spec: withTables({ name: 'billing.credentials', orgFrom: { mapping: { column: 'id' } } }), what: /Table billing\.credentials \(spec field tables\[0\]\.name\) does not exist/, next: /schema-qualify/ },
  { title: 'a missing column (says which columns exist)', spec: withTables({ name: 'credentials', orgFrom: { mapping: { column: 'idd' } } }, REPORTS, LAYOUTS), what: /Column "idd" \(spec field tables\[0\]\.orgFrom\.mapping\.column\) does not exist in public\.credentials/, next: /Use one of its columns: id, user_id, provider, secret, created_at, updated_at/ },
  {
    title: 'the mapping key column of another type than the column it maps', spec: legacySpec(),
    setup: (c) => c.query('ALTER TABLE legacy_credential_org_map ALTER COLUMN credential_id TYPE text'),
    what: /public\.credentials\.id is bigint but the mapping key credential_id is text/, next: /same type as the column it maps/,
  },
  {
    title: 'the mapping org column of another type than orgs.id', spec: legacySpec(),
    setup: (c) => c.query('ALTER TABLE legacy_credential_org_map ALTER COLUMN org_id TYPE text'),
    what: /mapping\.orgColumn public\.legacy_credential_org_map\.org_id is text but the orgs id is uuid/, next: /same type as the orgs id/,
  },
  {
    title: 'a table that already has an org_id column of another type', spec: legacySpec(),
    setup: (c) => c.query('ALTER TABLE reports ADD COLUMN org_id text'),
    what: /public\.reports already has a column "org_id" of type text, not uuid/, next: /"orgColumn"/,
  },
  { title: 'a query that fails', spec: layoutsQuery('SELECT nope FROM org_members'), what: /The query in tables\[2\]\.orgFrom\.query\.sql fails: column "nope" does not exist/, next: /two columns named key and org_id/ },
  { title: 'a query that does not return key and org_id', spec: layoutsQuery('SELECT user_id, org_id FROM org_members'), what: /tables\[2\]\.orgFrom\.query\.sql .*key/, next: /two columns named key and org_id/ },
  { title: 'a query whose key has another type than the column', spec: layoutsQuery('SELECT user_id::text AS key, org_id FROM org_members'), what: /tables\[2\]\.orgFrom\.query\.sql returns key as text but public\.dashboard_layouts\.user_id is uuid/, next: /Cast the key/ },
  { title: 'a query whose org_id has another type than orgs.id', spec: layoutsQuery('SELECT user_id AS key, org_id::text AS org_id FROM org_members'), what: /tables\[2\]\.orgFrom\.query\.sql returns org_id as text, not uuid/, next: /Cast org_id/ },
  { title: 'a parent table that is not in the spec', spec: legacySpec({ tables: [REPORTS, LAYOUTS], tenantCredentials: undefined }), what: /tables\[0\]\.orgFrom\.parent\.table public\.credentials is not one of the spec's tables/, next: /Add the parent table to "tables"/ },
  { title: 'a parent column of another type than the parent key', spec: withTables(CREDENTIALS, { name: 'reports', orgFrom: { parent: { table: 'credentials', column: 'title' } } }, LAYOUTS), what: /public\.reports\.title is text but public\.credentials\.id is bigint/, next: /same type/ },
  {
    title: 'parents that form a cycle',
    spec: withTables({ name: 'credentials', orgFrom: { parent: { table: 'reports', column: 'id', references: 'id' } } }, REPORTS, LAYOUTS),
    what: /tables\[\d\]\.orgFrom\.parent forms a cycle/, next: /cannot take its org from itself/,
  },
  { title: 'tenantCredentials.from that is not a migrated table', spec: legacySpec({ tenantCredentials: { table: 'tenant_credentials', from: 'users' } }), what: /tenantCredentials\.from users is not one of the spec's tables/, next: /migrated credentials table/ },
  { title: 'the orgs table listed as a table to migrate', spec: withTables(CREDENTIALS, REPORTS, LAYOUTS, { name: 'orgs', orgFrom: { query: { column: 'id', sql: 'SELECT id AS key, id AS org_id FROM orgs' } } }), what: /tables\[3\] is the orgs table itself/, next: /Remove the orgs table/ },
];

/** An injection attempt in every string field of the spec that names an existing object or a value. */
const INJECTION_CASES: Case[] = [
  { title: 'orgs.table', spec: legacySpec({ orgs: { table: 'orgs; DROP TABLE orgs; --', idColumn: 'id' } }), what: /Table "orgs; DROP TABLE orgs; --" \(spec field orgs\.table\) does not exist/, next: /fix the name/ },
  { title: 'orgs.idColumn', spec: legacySpec({ orgs: { table: 'orgs', idColumn: "id'; DROP TABLE orgs; --" } }), what: /Column "id'; DROP TABLE orgs; --" \(spec field orgs\.idColumn\) does not exist in public\.orgs/, next: /Use one of its columns: id, name, created_at/ },
  { title: 'defaultOrgId', spec: legacySpec({ defaultOrgId: "x'); DROP TABLE orgs; --" }), what: /defaultOrgId "x'\); DROP TABLE orgs; --" is not a valid uuid/, next: /Write a uuid value/ },
  { title: 'mapping.table', spec: legacySpec({ mapping: { table: `legacy_credential_org_map"; DROP TABLE orgs; --`, keyColumn: 'credential_id', orgColumn: 'org_id' } }), what: /spec field mapping\.table\) does not exist/, next: /fix the name/ },
  { title: 'mapping.keyColumn', spec: legacySpec({ mapping: { table: 'legacy_credential_org_map', keyColumn: 'credential_id" = 1; DROP TABLE orgs; --', orgColumn: 'org_id' } }), what: /spec field mapping\.keyColumn\) does not exist in public\.legacy_credential_org_map/, next: /credential_id, org_id/ },
  { title: 'mapping.orgColumn', spec: legacySpec({ mapping: { table: 'legacy_credential_org_map', keyColumn: 'credential_id', orgColumn: `org_id'::uuid); DROP TABLE orgs; --` } }), what: /spec field mapping\.orgColumn\) does not exist/, next: /credential_id, org_id/ },
  { title: 'tables[].name', spec: legacySpec({ tables: [{ name: 'credentials; DROP TABLE orgs; --', orgFrom: { mapping: { column: 'id' } } }], tenantCredentials: undefined }), what: /Table "credentials; DROP TABLE orgs; --" \(spec field tables\[0\]\.name\) does not exist/, next: /fix the name/ },
  { title: 'tables[].orgFrom.mapping.column', spec: withTables({ name: 'credentials', orgFrom: { mapping: { column: 'id" OR 1=1 --' } } }, REPORTS, LAYOUTS), what: /Column "id" OR 1=1 --" \(spec field tables\[0\]\.orgFrom\.mapping\.column\)/, next: /Use one of its columns/ },
  { title: 'tables[].orgFrom.parent.table', spec: withTables(CREDENTIALS, { name: 'reports', orgFrom: { parent: { table: `credentials"; DROP TABLE orgs; --`, column: 'credential_id' } } }, LAYOUTS), what: /Table "credentials""; DROP TABLE orgs; --" \(spec field tables\[1\]\.orgFrom\.parent\.table\) does not exist/, next: /fix the name/ },
  { title: 'tables[].orgFrom.parent.column', spec: withTables(CREDENTIALS, { name: 'reports', orgFrom: { parent: { table: 'credentials', column: INJECT } } }, LAYOUTS), what: /Column "x; DROP TABLE orgs; --" \(spec field tables\[1\]\.orgFrom\.parent\.column\)/, next: /Use one of its columns/ },
  { title: 'tables[].orgFrom.parent.references', spec: withTables(CREDENTIALS, { name: 'reports', orgFrom: { parent: { table: 'credentials', column: 'credential_id', references: 'id"); DROP TABLE orgs; --' } } }, LAYOUTS), what: /spec field tables\[1\]\.orgFrom\.parent\.references\) does not exist in public\.credentials/, next: /Use one of its columns/ },
  { title: 'tables[].orgFrom.query.column', spec: withTables(CREDENTIALS, REPORTS, { name: 'dashboard_layouts', orgFrom: { query: { column: INJECT, sql: 'SELECT 1 AS key, 2 AS org_id' } } }), what: /spec field tables\[2\]\.orgFrom\.query\.column\) does not exist/, next: /Use one of its columns/ },
  { title: 'tenantCredentials.from', spec: legacySpec({ tenantCredentials: { table: 'tenant_credentials', from: 'credentials; DROP TABLE orgs; --' } }), what: /tenantCredentials\.from "credentials; DROP TABLE orgs; --" is not one of the spec's tables/, next: /Point it at the migrated credentials table/ },
  { title: 'tenantContext.name (setting)', spec: legacySpec({ tenantContext: { kind: 'setting', name: "app.org'; DROP TABLE orgs; --" } }), what: /invalid: field tenantContext\.name: must be a custom setting name/, next: /Fix the field named/ },
];

describe('bad input: one line naming the field and the fix, the right exit code, nothing changed', function () {
  this.timeout(120_000);
  let db: TestDatabase;
  let ws: Workspace;

  before(() => buildCli());
  beforeEach(async () => {
    db = await createTestDatabase();
    ws = new Workspace();
  });
  afterEach(async () => {
    ws?.remove();
    await db?.drop();
  });

  async function check(c: Case): Promise<void> {
    await c.setup?.(db.client);
    const before = await databaseDigest(db.client);
    ws.writeSpec(c.spec);
    const r = await ws.run(['run', '--yes'], { DATABASE_URL: db.url });
    assert.equal(r.code, c.code ?? 2, `exit code ${r.code}: ${r.stderr}`);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, `one line on stderr: ${r.stderr}`);
    const match = /^tenant-migrate: (.+?) — (.+)$/.exec(lines[0]!);
    assert.ok(match, `"<what> — <next>": ${lines[0]}`);
    assert.match(match[1]!, c.what);
    assert.match(match[2]!, c.next);
    const after = await databaseDigest(db.client);
    assertSameDigest(before, after);
    assert.ok((after.tables as { schema: string; name: string }[]).some((t) => t.schema === 'public' && t.name === 'orgs'), 'orgs still exists');
    assert.deepEqual(ws.files(), ['tenant-migration.json'], 'no script, log or report written');
  }

  describe('spec and schema mismatches', () => {
    for (const c of SPEC_CASES) it(c.title, () => check(c));
  });

  describe('injection attempts are names or values, never SQL', () => {
    for (const c of INJECTION_CASES) it(c.title, () => check(c));
  });
});
