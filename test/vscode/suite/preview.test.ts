// "Tenant Migration: Preview Plan": the webview (in the real workbench) says it is ready and receives the plan —
// the script's statements with their locks, the row estimates, and the mapping gaps. Nothing is written.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { PlanPreviewPanel } from '../../../src/extension/plan-preview/panel';
import type { HostMessage } from '../../../src/shared/protocol';
import type { TenantMigrationApi } from '../../../src/extension/api';
import { addProfile, extension, freshDatabase, query, waitFor } from './helpers';

describe('Tenant Migration: Preview Plan', () => {
  let api: TenantMigrationApi;
  let database: string;
  let panel: PlanPreviewPanel;
  let plan: Extract<HostMessage, { type: 'plan' }>['plan'];

  before(async () => {
    ({ api } = await extension());
    database = await freshDatabase('preview');
    await addProfile('preview', database);
    const opened = await vscode.commands.executeCommand('tenantMigration.previewPlan');
    panel = api.planPreview()!;
    assert.ok(panel, `the command opened the preview: ${JSON.stringify(opened)?.slice(0, 300)}`);
    assert.ok(panel && Array.isArray(panel.posted), 'the plan preview is open');
    const message = await waitFor(
      'the webview to be ready and receive the plan',
      () => panel.posted.find((m) => m.type === 'plan' || m.type === 'error'),
      45_000,
    );
    assert.equal(message.type, 'plan', JSON.stringify(message));
    plan = (message as Extract<HostMessage, { type: 'plan' }>).plan;
  });

  after(() => panel?.dispose());

  it('receives the plan: every phase of the script with its statements and locks, and the row estimates', () => {
    const phases = plan.phases.map((p) => p.phase);
    for (const phase of ['backup', 'columns', 'backfill', 'constraints', 'indexes', 'rls'])
      assert.ok(phases.includes(phase), `phase ${phase} in ${phases.join(', ')}`);
    const statements = plan.phases.flatMap((p) => p.statements);
    assert.ok(statements.length > 20);
    assert.ok(
      statements.some((s) => /ALTER TABLE/i.test(s.sql) && s.locks.some((l) => l.mode === 'ACCESS EXCLUSIVE')),
      'locks are named',
    );
    assert.deepEqual(plan.tables.map((t) => t.table).sort(), [
      'public.credentials',
      'public.dashboard_layouts',
      'public.reports',
    ]);
    assert.ok(plan.tables.every((t) => t.estimatedRows > 0));
  });

  it('receives the mapping gaps with counts and samples', async () => {
    const credentials = plan.gaps.tables.find((t) => t.table === 'public.credentials');
    assert.ok(credentials, JSON.stringify(plan.gaps.tables.map((t) => t.table)));
    const unmapped = credentials.findings.find((f) => f.kind === 'unmapped');
    assert.ok(unmapped && unmapped.count > 0 && unmapped.samples.length > 0, JSON.stringify(credentials.findings));
    const [row] = await query<{ n: string }>(
      database,
      'SELECT count(*)::text AS n FROM credentials c WHERE NOT EXISTS (SELECT 1 FROM legacy_credential_org_map m WHERE m.credential_id = c.id)',
    );
    assert.equal(unmapped.count, Number(row!.n), "the count is the database's");
    assert.equal(plan.gaps.blocking, false);
  });

  it('marks the Preview step as reviewed and wrote nothing to the database', async () => {
    assert.equal(api.stepState('preview').status, 'done');
    const [state] = await query(database, `SELECT to_regnamespace('tenant_migration') AS schema`);
    assert.equal(state!.schema, null, 'no state schema: the preview is read-only');
  });
});
