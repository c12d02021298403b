// Bad input through the CLI, injection attempts in every string field of the spec: they stay names or values, never
// SQL; one line, exit 2, the database unchanged (the suite and its hooks: ./support/bad-input).
import { legacySpec } from '../fixtures/legacy-data';
import { badInputSuite, CREDENTIALS, REPORTS, LAYOUTS, withTables, INJECT, type Case } from './support/bad-input';

/** An injection attempt in every string field of the spec that names an existing object or a value. */
const INJECTION_CASES: Case[] = [
  {
    title: 'orgs.table',
    spec: legacySpec({ orgs: { table: 'orgs; DROP TABLE orgs; --', idColumn: 'id' } }),
    what: /Table "orgs; DROP TABLE orgs; --" \(spec field orgs\.table\) does not exist/,
    next: /fix the name/,
  },
  {
    title: 'orgs.idColumn',
    spec: legacySpec({ orgs: { table: 'orgs', idColumn: "id'; DROP TABLE orgs; --" } }),
    what: /Column "id'; DROP TABLE orgs; --" \(spec field orgs\.idColumn\) does not exist in public\.orgs/,
    next: /Use one of its columns: id, name, created_at/,
  },
  {
    title: 'defaultOrgId',
    spec: legacySpec({ defaultOrgId: "x'); DROP TABLE orgs; --" }),
    what: /defaultOrgId "x'\); DROP TABLE orgs; --" is not a valid uuid/,
    next: /Write a uuid value/,
  },
  {
    title: 'mapping.table',
    spec: legacySpec({
      mapping: {
        table: `legacy_credential_org_map"; DROP TABLE orgs; --`,
        keyColumn: 'credential_id',
        orgColumn: 'org_id',
      },
    }),
    what: /spec field mapping\.table\) does not exist/,
    next: /fix the name/,
  },
  {
    title: 'mapping.keyColumn',
    spec: legacySpec({
      mapping: {
        table: 'legacy_credential_org_map',
        keyColumn: 'credential_id" = 1; DROP TABLE orgs; --',
        orgColumn: 'org_id',
      },
    }),
    what: /spec field mapping\.keyColumn\) does not exist in public\.legacy_credential_org_map/,
    next: /credential_id, org_id/,
  },
  {
    title: 'mapping.orgColumn',
    spec: legacySpec({
      mapping: {
        table: 'legacy_credential_org_map',
        keyColumn: 'credential_id',
        orgColumn: `org_id'::uuid); DROP TABLE orgs; --`,
      },
    }),
    what: /spec field mapping\.orgColumn\) does not exist/,
    next: /credential_id, org_id/,
  },
  {
    title: 'tables[].name',
    spec: legacySpec({
      tables: [{ name: 'credentials; DROP TABLE orgs; --', orgFrom: { mapping: { column: 'id' } } }],
      tenantCredentials: undefined,
    }),
    what: /Table "credentials; DROP TABLE orgs; --" \(spec field tables\[0\]\.name\) does not exist/,
    next: /fix the name/,
  },
  {
    title: 'tables[].orgFrom.mapping.column',
    spec: withTables({ name: 'credentials', orgFrom: { mapping: { column: 'id" OR 1=1 --' } } }, REPORTS, LAYOUTS),
    what: /Column "id" OR 1=1 --" \(spec field tables\[0\]\.orgFrom\.mapping\.column\)/,
    next: /Use one of its columns/,
  },
  {
    title: 'tables[].orgFrom.parent.table',
    spec: withTables(
      CREDENTIALS,
      { name: 'reports', orgFrom: { parent: { table: `credentials"; DROP TABLE orgs; --`, column: 'credential_id' } } },
      LAYOUTS,
    ),
    what: /Table "credentials""; DROP TABLE orgs; --" \(spec field tables\[1\]\.orgFrom\.parent\.table\) does not exist/,
    next: /fix the name/,
  },
  {
    title: 'tables[].orgFrom.parent.column',
    spec: withTables(
      CREDENTIALS,
      { name: 'reports', orgFrom: { parent: { table: 'credentials', column: INJECT } } },
      LAYOUTS,
    ),
    what: /Column "x; DROP TABLE orgs; --" \(spec field tables\[1\]\.orgFrom\.parent\.column\)/,
    next: /Use one of its columns/,
  },
  {
    title: 'tables[].orgFrom.parent.references',
    spec: withTables(
      CREDENTIALS,
      {
        name: 'reports',
        orgFrom: { parent: { table: 'credentials', column: 'credential_id', references: 'id"); DROP TABLE orgs; --' } },
      },
      LAYOUTS,
    ),
    what: /spec field tables\[1\]\.orgFrom\.parent\.references\) does not exist in public\.credentials/,
    next: /Use one of its columns/,
  },
  {
    title: 'tables[].orgFrom.query.column',
    spec: withTables(CREDENTIALS, REPORTS, {
      name: 'dashboard_layouts',
      orgFrom: { query: { column: INJECT, sql: 'SELECT 1 AS key, 2 AS org_id' } },
    }),
    what: /spec field tables\[2\]\.orgFrom\.query\.column\) does not exist/,
    next: /Use one of its columns/,
  },
  {
    title: 'tenantCredentials.from',
    spec: legacySpec({ tenantCredentials: { table: 'tenant_credentials', from: 'credentials; DROP TABLE orgs; --' } }),
    what: /tenantCredentials\.from "credentials; DROP TABLE orgs; --" is not one of the spec's tables/,
    next: /Point it at the migrated credentials table/,
  },
  {
    title: 'tenantContext.name (setting)',
    spec: legacySpec({ tenantContext: { kind: 'setting', name: "app.org'; DROP TABLE orgs; --" } }),
    what: /invalid: field tenantContext\.name: must be a custom setting name/,
    next: /Fix the field named/,
  },
];

badInputSuite('injection attempts are names or values, never SQL', INJECTION_CASES);
