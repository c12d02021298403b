// The guard rails before a write: unticked manual prerequisites ask (and the answer is in the audit log), every write
// names its target in a confirmation ("don't ask again" per non-production connection), the migration script offers
// Explain and "Run migration" instead of statement-level writes, and a failure's next step points inside VS Code.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { TenantMigrationApi } from '../../../src/extension/api';
import { addProfile, checklistRows, extension, freshDatabase, mapCredentialToTwoOrgs, query, waitFor } from './helpers';
import { answerModals, asked } from './modals';

type Summary = { ok: boolean; message: string; next?: string; cancelled?: boolean };
const ITEMS = 'Full database dump taken; Users notified of the maintenance window; Migration script reviewed';

describe('guard rails before a write', () => {
  let api: TenantMigrationApi;
  let restore: (() => void) | undefined;
  before(async () => {
    ({ api } = await extension());
  });
  afterEach(() => {
    restore?.();
    restore = undefined;
  });

  const untickedAudit = (database: string) =>
    query<{ step: string; statement: string; outcome: string; run_id: string | null }>(
      database,
      `SELECT step, statement, outcome, run_id::text FROM tenant_migration.audit WHERE statement LIKE 'unticked%' ORDER BY id`,
    );
  const migrated = async (database: string) =>
    (
      await query(
        database,
        `SELECT 1 FROM information_schema.columns WHERE table_name = 'credentials' AND column_name = 'org_id'`,
      )
    ).length > 0;

  describe('with manual prerequisites unticked', () => {
    let database: string;
    before(async () => {
      database = await freshDatabase('unticked');
      await addProfile('unticked', database);
    });

    it('Run asks, naming the target and the items; Cancel runs nothing and the answer is in the audit log', async () => {
      const from = asked.length;
      restore = answerModals(() => undefined);
      const result = await vscode.commands.executeCommand<Summary>('tenantMigration.run');
      assert.deepEqual([result.ok, result.cancelled], [false, true]);
      assert.match(result.message, /Not run: manual prerequisites are not ticked/);
      const modal = asked.slice(from);
      assert.equal(modal.length, 1, JSON.stringify(modal));
      assert.match(
        modal[0]!.message,
        new RegExp(
          `^Run on ${database} \\(.*:\\d+/${database}, connection "unticked"\\): 3 manual prerequisites are not ticked\\.$`,
        ),
      );
      assert.match(modal[0]!.detail ?? '', new RegExp(`Not ticked: ${ITEMS}\\.`));
      assert.deepEqual(modal[0]!.buttons, ['Run Anyway']);
      assert.equal(await migrated(database), false, 'nothing migrated');
      assert.deepEqual(
        (await untickedAudit(database)).map((a) => [a.step, a.outcome, a.statement]),
        [
          [
            'backup',
            'cancelled',
            `unticked manual prerequisites (${ITEMS}): not run (the operator cancelled in VS Code)`,
          ],
        ],
      );
    });

    it('the Prerequisites row is not plain green while items are unticked: the count comes first', async () => {
      const prerequisites = (await checklistRows(api))[0]!;
      assert.notEqual(prerequisites.icon, 'pass-filled');
      assert.match(prerequisites.description, /^3 to tick/);
    });

    it('Run Anyway goes on (no second confirmation) and the audit log records it with the run, for each writing step', async () => {
      const from = asked.length;
      restore = answerModals((m) => (m.buttons.includes('Run Anyway') ? 'Run Anyway' : undefined));
      const result = await vscode.commands.executeCommand<Summary>('tenantMigration.run');
      assert.equal(result.ok, true, result.message);
      assert.equal(asked.length - from, 1, 'one modal: it named the target already');
      assert.equal(await migrated(database), true);
      const goOn = (await untickedAudit(database)).filter((a) => a.outcome === 'ok');
      assert.deepEqual(
        goOn.map((a) => a.step),
        ['backup', 'migrate'],
      );
      assert.ok(
        goOn.every((a) => a.run_id && a.statement.endsWith('went on (the operator answered "Run Anyway" in VS Code)')),
        JSON.stringify(goOn),
      );
      const prerequisites = (await checklistRows(api))[0]!;
      assert.equal(prerequisites.icon, 'pass', 'passed, but in the warning colour while items are unticked');
      assert.match(prerequisites.description, /^3 to tick · /);
    });
  });

  describe('with every manual prerequisite ticked, on a non-production connection', () => {
    let database: string;
    before(async () => {
      database = await freshDatabase('ticked');
      await addProfile('ticked', database);
      for (const item of ['full-dump', 'users-notified', 'script-reviewed']) {
        await vscode.commands.executeCommand('tenantMigration.tickManualItem', { kind: 'manual', item });
      }
    });

    it('Run asks to confirm the target; dismissed, nothing is written', async () => {
      const from = asked.length;
      restore = answerModals(() => undefined);
      const result = await vscode.commands.executeCommand<Summary>('tenantMigration.run');
      assert.deepEqual(
        [result.ok, result.cancelled, result.message],
        [false, true, 'Not confirmed: nothing was changed.'],
      );
      const modal = asked.slice(from);
      assert.equal(modal.length, 1);
      assert.match(modal[0]!.message, new RegExp(`^Run on ${database} \\(.*/${database}, connection "ticked"\\)\\?$`));
      assert.deepEqual(modal[0]!.buttons, ['Continue', "Continue, Don't Ask Again for This Connection"]);
      assert.equal(await migrated(database), false);
    });

    it('"don\'t ask again" runs and is remembered for this connection only', async () => {
      restore = answerModals((m) => m.buttons.find((b) => b.startsWith('Continue, Don')));
      const result = await vscode.commands.executeCommand<Summary>('tenantMigration.run');
      assert.equal(result.ok, true, result.message);
      assert.deepEqual(await untickedAudit(database), [], 'no go-ahead recorded: nothing was unticked');
      restore();
      const from = asked.length;
      restore = answerModals(() => undefined);
      const rollback = await vscode.commands.executeCommand<Summary>('tenantMigration.rollback', {
        restoreData: false,
      });
      assert.equal(rollback.ok, true, rollback.message);
      assert.equal(asked.length, from, 'not asked again on this connection');
      await vscode.commands.executeCommand('tenantMigration.forgetWriteConfirmations');
      const again = await vscode.commands.executeCommand<Summary>('tenantMigration.backup');
      assert.deepEqual([again.ok, again.cancelled], [false, true], 'asked again once forgotten, and dismissed');
    });
  });

  describe('the migration script and other SQL files', () => {
    let database: string;
    let script: vscode.Uri;
    const titles = async (uri: vscode.Uri) =>
      (
        (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 1000)) ?? []
      ).map((l) => l.command?.title ?? '');
    before(async () => {
      database = await freshDatabase('script');
      await addProfile('script', database);
      const folder = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
      const file = path.join(folder, 'scripts', 'migrate_to_multitenant.sql');
      if (!fs.existsSync(file)) await vscode.commands.executeCommand('tenantMigration.generateScript');
      script = vscode.Uri.file(file);
      await vscode.window.showTextDocument(script);
    });

    it('the migration script offers Explain and "Run migration" (through the runner), never a statement-level write', async () => {
      const lenses = await waitFor("the script's lenses", async () => {
        const t = await titles(script);
        return t.length > 1 ? t : undefined;
      });
      assert.equal(lenses.filter((t) => t === '$(play) Run migration').length, 1, JSON.stringify(lenses));
      assert.ok(
        lenses.some((t) => t.includes('Explain')),
        'Explain is offered',
      );
      assert.deepEqual(
        lenses.filter((t) => /Run \(write\)|^\$\(play\) Run$|Run as tenant/.test(t)),
        [],
        'no statement runs on its own',
      );
      const document = await vscode.workspace.openTextDocument(script);
      const write = await vscode.commands.executeCommand<{ ok: boolean; message: string }>(
        'tenantMigration.runStatementWrite',
        script,
        document.getText().indexOf('SET lock_timeout'),
      );
      assert.equal(write.ok, false);
      assert.match(
        write.message,
        /do not run one by one: that would bypass the run lock, the audit log and the resume state/,
      );
      assert.equal(
        (await query(database, `SELECT to_regnamespace('tenant_migration')::text AS s`))[0]!.s,
        null,
        'nothing ran',
      );
    });

    it('another SQL file keeps Run (write), which names the target before it writes', async () => {
      const folder = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
      const file = path.join(folder, 'guard.checks.sql');
      fs.writeFileSync(file, 'DELETE FROM reports WHERE id = 1;\n');
      try {
        const uri = vscode.Uri.file(file);
        await vscode.window.showTextDocument(uri);
        const lenses = await waitFor('the lenses of guard.checks.sql', async () => {
          const t = await titles(uri);
          return t.some((x) => x.includes('Run (write)')) ? t : undefined;
        });
        assert.ok(!lenses.includes('$(play) Run migration'));
        const from = asked.length;
        restore = answerModals(() => undefined);
        const result = await vscode.commands.executeCommand<{ state: string; message?: string }>(
          'tenantMigration.runStatementWrite',
          uri,
          0,
        );
        assert.deepEqual([result.state, result.message], ['failed', 'Not confirmed: nothing was run.']);
        assert.match(
          asked[from]!.message,
          new RegExp(`^Run \\(write\\) of the statement at line 1 on ${database} \\(.*connection "script"\\)\\?$`),
        );
        assert.equal((await query(database, 'SELECT 1 FROM reports WHERE id = 1')).length, 1, 'nothing deleted');
      } finally {
        await vscode.commands.executeCommand('workbench.action.closeAllEditors');
        fs.rmSync(file, { force: true });
      }
    });
  });

  describe('a failed run', () => {
    let database: string;
    before(async () => {
      database = await freshDatabase('guardfail');
      await mapCredentialToTwoOrgs(database);
      await addProfile('guardfail', database);
    });

    it('what to do next is short in the row, whole in the tooltip and Show Details, and points to Preview Plan', async () => {
      const result = await vscode.commands.executeCommand<Summary>('tenantMigration.run');
      assert.equal(result.ok, false);
      const next = (await checklistRows(api))[0]!.children[0]!;
      assert.equal(next.label, 'What to do next');
      assert.match(next.description, /^Resolve the rows named/);
      assert.match(next.description, /Preview Plan lists them all/);
      assert.doesNotMatch(next.description, /tenant-migrate/);
      const details = await vscode.commands.executeCommand<{ ok: boolean; text: string }>(
        'tenantMigration.showNextDetails',
        { kind: 'next', step: 'prerequisites' },
      );
      assert.match(details.text, /^# Prerequisites: failed/);
      assert.match(details.text, /## What to do next\n\nResolve the rows named \(3 .*Preview Plan lists them all/);
      const editor = vscode.window.activeTextEditor?.document;
      assert.match(editor?.getText() ?? '', /## What to do next/, 'opened in an editor');
      assert.equal(editor?.isUntitled, false, 'a read-only document, nothing to save');
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    });
  });

  describe('during a run', () => {
    it("the checklist's header shows the elapsed time and the time left of the whole run", async () => {
      const database = await freshDatabase('eta', 'medium');
      await addProfile('eta', database);
      const pending = vscode.commands.executeCommand<Summary>('tenantMigration.run');
      try {
        const line = await waitFor(
          'the run line',
          () => {
            const m = api.checklistMessage();
            return m && /left \(\d+%\)/.test(m) ? m : undefined;
          },
          120_000,
        );
        assert.match(line, /^Run: [\d.]+ (ms|s|min)( \d+ s)? elapsed · about .+ left \(\d+%\)$/);
      } finally {
        const result = await pending;
        assert.equal(result.ok, true, result.message);
      }
      await waitFor('the run line to go', () => (api.checklistMessage()?.startsWith('Run:') ? undefined : true), 5_000);
    });
  });
});
