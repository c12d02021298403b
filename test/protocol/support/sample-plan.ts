// Shared by the plan preview protocol tests (plan-view, preview-channel): a plan shaped like the engine's.
import type { Plan } from '../../../src/engine/plan';

const DEFAULT_ORG = '00000000-0000-0000-0000-000000000001';

/** A plan shaped like the engine's for the guide's tables, with every kind of statement and finding. */
export function samplePlan(): Plan {
  return {
    scriptPath: '/ws/scripts/migrate_to_multitenant.sql',
    scriptExists: false,
    statements: [
      { line: 7, sql: '\\set ON_ERROR_STOP on', locks: [] },
      { line: 8, sql: "SET lock_timeout = '100ms'", locks: [] },
      { line: 14, phase: 'prepare', sql: 'CREATE SCHEMA IF NOT EXISTS "tenant_migration"', locks: [] },
      {
        line: 122,
        phase: 'backup',
        sql: 'DO $tm$\nBEGIN\n  PERFORM 1;\nEND\n$tm$',
        locks: [
          {
            table: 'public.credentials',
            mode: 'ACCESS SHARE',
            blocksWrites: false,
            note: 'copies the table; writes continue',
          },
        ],
      },
      {
        line: 182,
        phase: 'columns',
        sql: 'ALTER TABLE "public"."credentials" ADD COLUMN IF NOT EXISTS "org_id" uuid',
        locks: [{ table: 'public.credentials', mode: 'ACCESS EXCLUSIVE', blocksWrites: true, note: 'AddColumn' }],
      },
      {
        line: 227,
        phase: 'columns',
        sql: 'CREATE OR REPLACE TRIGGER "t" BEFORE INSERT OR UPDATE ON "public"."reports" FOR EACH ROW EXECUTE FUNCTION f()',
        locks: [{ table: 'public.reports', mode: 'SHARE ROW EXCLUSIVE', blocksWrites: true }],
      },
      {
        line: 519,
        phase: 'indexes',
        sql: 'CREATE INDEX CONCURRENTLY IF NOT EXISTS "credentials_org_id_idx" ON "public"."credentials" ("org_id")',
        locks: [
          { table: 'public.credentials', mode: 'SHARE UPDATE EXCLUSIVE', blocksWrites: false, note: 'CONCURRENTLY' },
        ],
      },
      // A phase marker used twice, not one after the other: two groups, two ids.
      { line: 600, phase: 'columns', sql: 'SELECT 1', locks: [] },
    ],
    tables: [
      { table: 'public.credentials', estimatedRows: 200, totalBytes: 73_728 },
      { table: 'public.reports', estimatedRows: 600, totalBytes: 122_880 },
    ],
    gaps: {
      tables: [
        {
          table: 'public.credentials',
          rule: 'mapping public.legacy_credential_org_map by id',
          rows: 200,
          assigned: 172,
          toDefault: 28,
          estimated: false,
        },
        {
          table: 'public.reports',
          rule: 'parent public.credentials via credential_id',
          rows: 600,
          assigned: 546,
          toDefault: 54,
          estimated: false,
        },
      ],
      findings: [
        {
          kind: 'unmapped',
          table: 'public.credentials',
          count: 28,
          samples: [{ key: '7' }, { key: '14' }],
          blocking: false,
          message: `28 rows have no mapping and get the default org ${DEFAULT_ORG}`,
        },
        {
          kind: 'conflict',
          table: 'public.credentials',
          count: 2,
          samples: [{ key: '2', detail: 'maps to a, b' }],
          blocking: true,
          message: '2 keys map to more than one org in the mapping table: the run refuses until each maps to one org',
        },
        // PostgreSQL reports a row without a key as NULL, whatever the engine's type says.
        {
          kind: 'orphan-child',
          table: 'public.reports',
          count: 54,
          samples: [{ key: null as unknown as string, detail: 'no credential_id' }],
          blocking: false,
          message: '54 rows have no parent row and get the default org',
        },
        {
          kind: 'missing-org',
          table: 'public.dashboard_layouts',
          count: 1,
          samples: [{ key: 'u1', detail: 'org x does not exist' }],
          blocking: true,
          message: '1 mapping row points to an org that does not exist in public.orgs',
        },
      ],
      blocking: true,
    },
    shapes: [],
  };
}
