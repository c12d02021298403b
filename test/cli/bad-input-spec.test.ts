// Bad input through the CLI, spec and schema mismatches: one line naming the field or object and the fix, exit 2, the
// database unchanged (the suite and its hooks: ./support/bad-input).
import { legacySpec } from '../fixtures/legacy-data';
import { badInputSuite, CREDENTIALS, REPORTS, LAYOUTS, withTables, layoutsQuery, type Case } from './support/bad-input';

const SPEC_CASES: Case[] = [
  {
    title: 'batchSize is a string',
    spec: legacySpec({ batchSize: 'x' }),
    what: /tenant-migration\.json is invalid: field batchSize: is the text "x", expected a number/,
    next: /Fix the field named/,
  },
  {
    title: 'tables is not an array',
    spec: legacySpec({ tables: { name: 'credentials' } }),
    what: /invalid: field tables: is an object, expected a list/,
    next: /Fix the field named/,
  },
  {
    title: 'orgFrom with two keys',
    spec: withTables(
      { name: 'credentials', orgFrom: { mapping: { column: 'id' }, parent: { table: 'users', column: 'user_id' } } },
      REPORTS,
      LAYOUTS,
    ),
    what: /invalid: field tables\[0\]\.orgFrom: must be one of \{ "mapping"/,
    next: /Fix the field named/,
  },
  {
    title: 'lockTimeoutMs below its minimum',
    spec: legacySpec({ lockTimeoutMs: -5 }),
    what: /invalid: field lockTimeoutMs: is the number -5, must be at least 10/,
    next: /Fix the field named/,
  },
  {
    title: 'a table listed twice',
    spec: withTables(CREDENTIALS, REPORTS, LAYOUTS, CREDENTIALS),
    what: /tables\[3\]\.name: "credentials" is listed twice \(also tables\[0\]\)/,
    next: /List each table once/,
  },
  {
    title: 'a mapping rule without a mapping section',
    spec: legacySpec({ mapping: undefined }),
    what: /tables\[0\]\.orgFrom uses "mapping" but the spec has no "mapping" section/,
    next: /Add "mapping"/,
  },
  {
    title: 'defaultOrgId that is not a uuid (orgs.id is uuid)',
    spec: legacySpec({ defaultOrgId: 'not-a-uuid' }),
    what: /defaultOrgId "not-a-uuid" is not a valid uuid, the type of the orgs id column/,
    next: /Write a uuid value/,
  },
  {
    title: 'defaultOrgId given as a number for a uuid orgs.id',
    spec: legacySpec({ defaultOrgId: 42 }),
    what: /defaultOrgId "42" is not a valid uuid/,
    next: /Write a uuid value/,
  },
  {
    title: 'a missing table',
    spec: withTables(CREDENTIALS, REPORTS, LAYOUTS, { name: 'invoices', orgFrom: { mapping: { column: 'id' } } }),
    what: /Table invoices \(spec field tables\[3\]\.name\) does not exist in tm_test_\w+/,
    next: /Create it, or fix the name in the spec/,
  },
  {
    title: 'a missing orgs table',
    spec: legacySpec({ orgs: { table: 'organisations', idColumn: 'id' } }),
    what: /Table organisations \(spec field orgs\.table\) does not exist/,
    next: /Create it, or fix the name/,
  },
  {
    title: 'a schema-qualified name in a schema that does not exist',
    spec: withTables({ name: 'billing.credentials', orgFrom: { mapping: { column: 'id' } } }),
    what: /Table billing\.credentials \(spec field tables\[0\]\.name\) does not exist/,
    next: /schema-qualify/,
  },
  {
    title: 'a missing column (says which columns exist)',
    spec: withTables({ name: 'credentials', orgFrom: { mapping: { column: 'idd' } } }, REPORTS, LAYOUTS),
    what: /Column "idd" \(spec field tables\[0\]\.orgFrom\.mapping\.column\) does not exist in public\.credentials/,
    next: /Use one of its columns: id, user_id, provider, secret, created_at, updated_at/,
  },
  {
    title: 'the mapping key column of another type than the column it maps',
    spec: legacySpec(),
    setup: (c) => c.query('ALTER TABLE legacy_credential_org_map ALTER COLUMN credential_id TYPE text'),
    what: /public\.credentials\.id is bigint but the mapping key credential_id is text/,
    next: /same type as the column it maps/,
  },
  {
    title: 'the mapping org column of another type than orgs.id',
    spec: legacySpec(),
    setup: (c) => c.query('ALTER TABLE legacy_credential_org_map ALTER COLUMN org_id TYPE text'),
    what: /mapping\.orgColumn public\.legacy_credential_org_map\.org_id is text but the orgs id is uuid/,
    next: /same type as the orgs id/,
  },
  {
    title: 'a table that already has an org_id column of another type',
    spec: legacySpec(),
    setup: (c) => c.query('ALTER TABLE reports ADD COLUMN org_id text'),
    what: /public\.reports already has a column "org_id" of type text, not uuid/,
    next: /"orgColumn"/,
  },
  {
    title: 'a query that fails',
    spec: layoutsQuery('SELECT nope FROM org_members'),
    what: /The query in tables\[2\]\.orgFrom\.query\.sql fails: column "nope" does not exist/,
    next: /two columns named key and org_id/,
  },
  {
    title: 'a query that does not return key and org_id',
    spec: layoutsQuery('SELECT user_id, org_id FROM org_members'),
    what: /tables\[2\]\.orgFrom\.query\.sql .*key/,
    next: /two columns named key and org_id/,
  },
  {
    title: 'a query whose key has another type than the column',
    spec: layoutsQuery('SELECT user_id::text AS key, org_id FROM org_members'),
    what: /tables\[2\]\.orgFrom\.query\.sql returns key as text but public\.dashboard_layouts\.user_id is uuid/,
    next: /Cast the key/,
  },
  {
    title: 'a query whose org_id has another type than orgs.id',
    spec: layoutsQuery('SELECT user_id AS key, org_id::text AS org_id FROM org_members'),
    what: /tables\[2\]\.orgFrom\.query\.sql returns org_id as text, not uuid/,
    next: /Cast org_id/,
  },
  {
    title: 'a parent table that is not in the spec',
    spec: legacySpec({ tables: [REPORTS, LAYOUTS], tenantCredentials: undefined }),
    what: /tables\[0\]\.orgFrom\.parent\.table public\.credentials is not one of the spec's tables/,
    next: /Add the parent table to "tables"/,
  },
  {
    title: 'a parent column of another type than the parent key',
    spec: withTables(
      CREDENTIALS,
      { name: 'reports', orgFrom: { parent: { table: 'credentials', column: 'title' } } },
      LAYOUTS,
    ),
    what: /public\.reports\.title is text but public\.credentials\.id is bigint/,
    next: /same type/,
  },
  {
    title: 'parents that form a cycle',
    spec: withTables(
      { name: 'credentials', orgFrom: { parent: { table: 'reports', column: 'id', references: 'id' } } },
      REPORTS,
      LAYOUTS,
    ),
    what: /tables\[\d\]\.orgFrom\.parent forms a cycle/,
    next: /cannot take its org from itself/,
  },
  {
    title: 'tenantCredentials.from that is not a migrated table',
    spec: legacySpec({ tenantCredentials: { table: 'tenant_credentials', from: 'users' } }),
    what: /tenantCredentials\.from users is not one of the spec's tables/,
    next: /migrated credentials table/,
  },
  {
    title: 'the orgs table listed as a table to migrate',
    spec: withTables(CREDENTIALS, REPORTS, LAYOUTS, {
      name: 'orgs',
      orgFrom: { query: { column: 'id', sql: 'SELECT id AS key, id AS org_id FROM orgs' } },
    }),
    what: /tables\[3\] is the orgs table itself/,
    next: /Remove the orgs table/,
  },
];

badInputSuite('spec and schema mismatches', SPEC_CASES);
