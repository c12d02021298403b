// The starting spec for the guide's tables and the guide's validation queries as a checks file. Used by
// `tenant-migrate init` and the extension's "Create tenant-migration.json".
export const GUIDE_SPEC = {
  $schema: './node_modules/tenant-migration/schemas/tenant-migration.schema.json',
  version: 1,
  orgs: { table: 'orgs', idColumn: 'id' },
  defaultOrgId: '00000000-0000-0000-0000-000000000001',
  mapping: { table: 'legacy_credential_org_map', keyColumn: 'credential_id', orgColumn: 'org_id' },
  tables: [
    { name: 'credentials', orgFrom: { mapping: { column: 'id' } } },
    { name: 'reports', orgFrom: { parent: { table: 'credentials', column: 'credential_id' } } },
    {
      name: 'dashboard_layouts',
      orgFrom: {
        query: {
          column: 'user_id',
          sql: 'SELECT DISTINCT ON (user_id) user_id AS key, org_id FROM org_members ORDER BY user_id, org_id',
        },
      },
    },
  ],
  tenantCredentials: { table: 'tenant_credentials', from: 'credentials' },
  tenantContext: { kind: 'supabase-jwt', claim: 'org_id' },
  script: 'scripts/migrate_to_multitenant.sql',
  tests: [] as { name: string; command: string }[],
};

export const GUIDE_CHECKS = `-- The migration guide's validation queries, as checks: "-- expect:" makes each one a check in the editor.
\\d+ credentials
\\d+ reports
\\d+ dashboard_layouts

-- expect: 0
SELECT COUNT(*) FROM credentials WHERE org_id IS NULL;
-- expect: 0
SELECT COUNT(*) FROM reports WHERE org_id IS NULL;
-- expect: 0
SELECT COUNT(*) FROM dashboard_layouts WHERE org_id IS NULL;

-- tenant_credentials per org (compare with the expected assignments in the report)
SELECT org_id, COUNT(*) FROM tenant_credentials GROUP BY org_id;

-- expect: 0
SELECT COUNT(*) FROM tenant_credentials t JOIN credentials c ON c.id = t.credential_id WHERE t.org_id <> c.org_id;
`;
