// The checklist beyond a clean run: what to do next on a failure, manual items ticked with who and when, the
// step actions (run this step, run from here, show SQL), and the database's record after a restart.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { MANUAL_ITEMS } from '../../../src/engine/events';
import type { TenantMigrationApi } from '../../../src/extension/api';
import { addProfile, checklistRows, extension, freshDatabase, mapCredentialToTwoOrgs, query } from './helpers';

type Summary = { ok: boolean; message: string; next?: string; cancelled?: boolean };

describe('the checklist', () => {
  let api: TenantMigrationApi;

  /** Another connection and back: the checklist starts from nothing, as after a restart, and reads the database. */
  async function restart(name: string): Promise<void> {
    await vscode.commands.executeCommand('tenantMigration.selectConnection', 'elsewhere');
    await vscode.commands.executeCommand('tenantMigration.selectConnection', name);
    assert.equal(api.stepState('prerequisites').source, 'none', 'a new connection starts from nothing');
    await api.refreshChecklist();
  }

  before(async () => {
    ({ api } = await extension());
    await vscode.commands.executeCommand('tenantMigration.addConnection', {
      name: 'elsewhere',
      host: '127.0.0.1',
      port: 1,
      database: 'x',
      user: 'x',
      sslMode: 'disable',
    });
  });

  describe('when the run is refused', () => {
    let database: string;
    before(async () => {
      database = await freshDatabase('conflict');
      await mapCredentialToTwoOrgs(database);
      await addProfile('conflict', database);
    });

    it('says what to do next, in the tree and in the result, and changes nothing', async () => {
      const result = await vscode.commands.executeCommand<Summary>('tenantMigration.run');
      assert.equal(result.ok, false);
      assert.match(result.message, /Conflicting mapping/);
      assert.match(result.next ?? '', /Resolve the rows named \(3 /);
      const prerequisites = (await checklistRows(api))[0]!;
      assert.equal(prerequisites.icon, 'error');
      assert.match(prerequisites.description, /^failed/);
      const next = prerequisites.children[0]!;
      assert.equal(next.icon, 'lightbulb', 'the first child is what to do next');
      assert.equal(next.label, 'What to do next');
      assert.match(next.description, /Resolve the rows named/);
      const [schema] = await query(database, `SELECT to_regnamespace('tenant_migration')::text AS s`);
      assert.equal(schema!.s, null, 'nothing was written, not even a run record');
    });
  });

  describe('when a step fails', () => {
    let specFile: string;
    let originalSpec: string;
    before(async function () {
      this.timeout(120_000);
      specFile = path.join(vscode.workspace.workspaceFolders![0]!.uri.fsPath, 'tenant-migration.json');
      originalSpec = fs.readFileSync(specFile, 'utf8');
      const spec = JSON.parse(originalSpec) as { tests: unknown[] };
      fs.writeFileSync(
        specFile,
        JSON.stringify(
          {
            ...spec,
            tests: [
              ...spec.tests,
              { name: 'e2e suite', command: 'node -e "console.error(\'2 failed\'); process.exit(2)"' },
            ],
          },
          null,
          2,
        ),
      );
      await addProfile('failing', await freshDatabase('failing'));
    });
    after(() => fs.writeFileSync(specFile, originalSpec));

    it('shows the failed step with what to do next', async () => {
      const result = await vscode.commands.executeCommand<Summary>('tenantMigration.run');
      assert.equal(result.ok, false);
      assert.match(result.message, /Project tests failed: 1 of 2 test commands failed/);
      const tests = (await checklistRows(api)).find((r) => r.label === 'Project tests')!;
      assert.equal(tests.icon, 'error');
      assert.equal(tests.children[0]!.icon, 'lightbulb');
      assert.match(tests.children[0]!.description, /Read the failing command's output in the log/);
      assert.ok(
        tests.children.some(
          (c) => c.label === 'e2e suite' && c.icon === 'close' && /exit 2: 2 failed/.test(c.description),
        ),
        JSON.stringify(tests.children),
      );
    });

    it('keeps it after a restart: the failure and what to do next come back from the database', async () => {
      await restart('failing');
      const state = api.stepState('tests');
      assert.deepEqual([state.status, state.source], ['failed', 'database']);
      assert.match(state.next ?? '', /Read the failing command's output/);
      assert.equal(api.stepState('migrate').status, 'done', 'the steps before it are done');
    });
  });

  describe('on a migrated database', () => {
    let database: string;
    before(async function () {
      this.timeout(120_000);
      database = await freshDatabase('steps');
      await addProfile('steps', database);
      const result = await vscode.commands.executeCommand<Summary>('tenantMigration.run');
      assert.equal(result.ok, true, result.message);
    });

    it('ticks a manual item, recording who and when in the database', async () => {
      const result = await vscode.commands.executeCommand<{ ok: boolean }>('tenantMigration.tickManualItem', {
        kind: 'manual',
        item: 'full-dump',
      });
      assert.deepEqual(result, { ok: true, item: 'full-dump' });
      const [row] = await query<{ ticked_by: string; ticked_at: Date }>(
        database,
        `SELECT ticked_by, ticked_at FROM tenant_migration.manual_items WHERE item = $1`,
        [MANUAL_ITEMS['full-dump']],
      );
      assert.ok(row && row.ticked_by.includes('@'), 'who: user@host');
      const manual = (await checklistRows(api))[0]!.children.find((c) => c.label === MANUAL_ITEMS['full-dump'])!;
      assert.equal(manual.checkbox, 'checked');
      assert.ok(manual.description.startsWith(row.ticked_by), `the tree shows who: ${manual.description}`);
      const [audit] = await query(database, `SELECT 1 FROM tenant_migration.audit WHERE statement = $1`, [
        `manual item ticked: ${MANUAL_ITEMS['full-dump']}`,
      ]);
      assert.ok(audit, 'the tick is in the audit log');
    });

    it('runs one step from its context action', async () => {
      const runsBefore = await query(database, 'SELECT id FROM tenant_migration.runs');
      const result = await vscode.commands.executeCommand<Summary>('tenantMigration.runStep', {
        kind: 'step',
        step: 'validate',
      });
      assert.equal(result.ok, true, result.message);
      assert.match(result.message, /^Validate: \d+ checks passed/);
      const runs = await query<{ command: string }>(database, 'SELECT command FROM tenant_migration.runs ORDER BY id');
      assert.equal(runs.length, runsBefore.length + 1);
      assert.equal(runs.at(-1)!.command, 'validate');
    });

    it('runs from a step on, in one run', async () => {
      const result = await vscode.commands.executeCommand<Summary>('tenantMigration.runFromHere', {
        kind: 'step',
        step: 'isolation',
      });
      assert.equal(result.ok, true, result.message);
      const [run] = await query<{ id: string; command: string; status: string }>(
        database,
        'SELECT id::text, command, status FROM tenant_migration.runs ORDER BY id DESC LIMIT 1',
      );
      assert.deepEqual({ command: run!.command, status: run!.status }, { command: 'run', status: 'succeeded' });
      const steps = await query<{ step: string }>(
        database,
        'SELECT step FROM tenant_migration.steps WHERE run_id = $1 ORDER BY started_at',
        [run!.id],
      );
      assert.deepEqual(
        steps.map((s) => s.step),
        ['isolation', 'tests', 'report'],
      );
    });

    it("shows a step's SQL in the script", async () => {
      const line = await vscode.commands.executeCommand<number>('tenantMigration.showStepSql', {
        kind: 'step',
        step: 'backup',
      });
      const editor = vscode.window.activeTextEditor!;
      assert.match(editor.document.fileName, /migrate_to_multitenant\.sql$/);
      assert.equal(editor.selection.active.line, line - 1);
      assert.equal(editor.document.lineAt(line - 1).text, '-- @tenant-migration step=backup');
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    });

    it("shows the database's record after a restart, and the rollback when it is undone", async () => {
      await restart('steps');
      for (const step of ['prerequisites', 'backup', 'migrate', 'validate', 'isolation'] as const) {
        const state = api.stepState(step);
        assert.deepEqual([state.status, state.source], ['done', 'database'], step);
        assert.ok(state.durationMs !== undefined, `${step} has its duration from the database`);
      }
      const result = await vscode.commands.executeCommand<Summary>('tenantMigration.rollback', { restoreData: false });
      assert.equal(result.ok, true, result.message);
      assert.equal(api.stepState('migrate').status, 'pending', 'a rolled-back migration is not shown as done');
      assert.match(api.stepState('migrate').summary ?? '', /undone by the rollback/);
      const [column] = await query(
        database,
        `SELECT 1 FROM information_schema.columns WHERE table_name = 'credentials' AND column_name = 'org_id'`,
      );
      assert.equal(column, undefined, 'the legacy schema is back');
    });
  });
});
