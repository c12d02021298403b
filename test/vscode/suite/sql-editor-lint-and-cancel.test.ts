// The SQL editor in the real VS Code against a real PostgreSQL: the lint as you type with its quick fix and the spec's
// lint settings, the statement timeout, Cancel stopping the statement on the server, and a 5,000-statement file.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { query, waitFor } from './helpers';
import { diagnosticsOf, lensTitlesOf, openChecks, type RunSummary } from './support/sql-editor';

describe('SQL editor', () => {
  let database: string;
  let uri: vscode.Uri;
  let document: vscode.TextDocument;
  const offsetOf = (text: string) => {
    const i = document.getText().indexOf(text);
    assert.ok(i >= 0, text);
    return i;
  };
  const lensTitles = () => lensTitlesOf(uri);
  const diagnostics = () => diagnosticsOf(uri);

  before(async function () {
    this.timeout(120_000);
    ({ database, uri, document } = await openChecks('sqllint', 'sql-lint', 'lint.checks.sql'));
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('lints as you type, with table sizes from the database, syntax errors on their statement, and a quick fix that applies', async () => {
    const found = await waitFor('the lint', () => {
      const d = diagnostics();
      return d.some((x) => x.code === 'not-idempotent') ? d : undefined;
    });
    const codes = found.map((d) => d.code);
    for (const code of ['lock-timeout', 'not-idempotent', 'syntax'])
      assert.ok(codes.includes(code), `${code} in ${codes.join(', ')}`);
    assert.ok(
      !codes.includes('index-concurrently'),
      `reports is small in the connected database (600 rows < 10,000): ${codes.join(', ')}`,
    );
    assert.equal(
      found.find((d) => d.code === 'syntax')!.range.start.line,
      document.positionAt(offsetOf('SELEC broken')).line,
    );
    const config = vscode.workspace.getConfiguration('tenantMigration');
    await config.update('sqlEditor.largeTableRows', 100, vscode.ConfigurationTarget.Global);
    try {
      const concurrently = await waitFor('the index warning once 600 rows count as large', () =>
        diagnostics().find((d) => d.code === 'index-concurrently'),
      );
      const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
        'vscode.executeCodeActionProvider',
        uri,
        concurrently.range,
      );
      const fix = actions.find((a) => a.title === 'Build it CONCURRENTLY');
      assert.ok(fix?.edit, actions.map((a) => a.title).join(', '));
      assert.ok(await vscode.workspace.applyEdit(fix.edit));
      assert.match(document.getText(), /CREATE INDEX CONCURRENTLY reports_title ON reports/);
      await waitFor(
        'the lint to drop the fixed warning',
        () => !diagnostics().some((d) => d.code === 'index-concurrently'),
        10_000,
      );
    } finally {
      await config.update('sqlEditor.largeTableRows', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  it('takes the lint settings of tenant-migration.json: a rule the spec turns off is gone, and back when the spec is restored', async () => {
    await waitFor('the lint', () => diagnostics().some((d) => d.code === 'not-idempotent'));
    const others = [
      ...new Set(
        diagnostics()
          .map((d) => String(d.code))
          .filter((c) => c !== 'not-idempotent'),
      ),
    ].sort();
    assert.ok(others.length > 0, 'other diagnostics to keep');
    const specPath = path.join(vscode.workspace.workspaceFolders![0]!.uri.fsPath, 'tenant-migration.json');
    const original = fs.readFileSync(specPath, 'utf8');
    try {
      fs.writeFileSync(
        specPath,
        JSON.stringify({ ...JSON.parse(original), lint: { rules: { 'not-idempotent': false } } }, null, 2),
      );
      await waitFor(
        'the rule the spec turned off to go',
        () => !diagnostics().some((d) => d.code === 'not-idempotent'),
        15_000,
      );
      assert.deepEqual(
        [...new Set(diagnostics().map((d) => String(d.code)))].sort(),
        others,
        'the other diagnostics stay',
      );
    } finally {
      fs.writeFileSync(specPath, original);
    }
    await waitFor(
      'the rule back once the spec no longer turns it off',
      () => diagnostics().some((d) => d.code === 'not-idempotent'),
      15_000,
    );
  });

  it('applies the statement timeout, and Cancel stops the statement on the server', async () => {
    const edit = new vscode.WorkspaceEdit();
    edit.insert(uri, document.positionAt(document.getText().length), '\nSELECT pg_sleep(60) AS slept;\n');
    assert.ok(await vscode.workspace.applyEdit(edit));
    const at = offsetOf('SELECT pg_sleep(60)');
    const config = vscode.workspace.getConfiguration('tenantMigration');
    await config.update('sqlEditor.statementTimeoutMs', 500, vscode.ConfigurationTarget.Global);
    try {
      const timedOut = await vscode.commands.executeCommand<RunSummary>('tenantMigration.runStatement', uri, at);
      assert.match(timedOut.message ?? '', /statement timeout/);
    } finally {
      await config.update('sqlEditor.statementTimeoutMs', undefined, vscode.ConfigurationTarget.Global);
    }
    const running = vscode.commands.executeCommand<RunSummary>('tenantMigration.runStatement', uri, at);
    const sleeping = () =>
      query(
        database,
        `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'SELECT pg_sleep(60)%' AND state = 'active'`,
      );
    await waitFor('the statement to run on the server', async () => ((await sleeping()).length ? true : undefined));
    assert.ok(
      (await lensTitles()).some((t) => t.endsWith('$(debug-stop) Cancel')),
      'a Cancel CodeLens while it runs',
    );
    const started = Date.now();
    assert.equal(await vscode.commands.executeCommand('tenantMigration.cancelStatement'), true);
    const cancelled = await running;
    assert.ok(Date.now() - started < 10_000);
    assert.equal(cancelled.message, 'Cancelled: the server stopped the statement.');
    assert.deepEqual(await sleeping(), []);
  });

  it('gives a 5,000-statement file (split in chunks) lenses down to its last statement, the tally of all its checks, and the lint of its last statement', async () => {
    const folder = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    const large = vscode.Uri.file(path.join(folder, 'large.checks.sql'));
    const statements = Array.from({ length: 5000 }, (_, i) =>
      i % 2
        ? `-- expect: 0\nSELECT count(*) FROM reports WHERE id = -${i};`
        : `UPDATE reports SET title = title WHERE id = ${i};`,
    );
    statements.push('CREATE INDEX audit_late ON audit_trail_not_created_yet (at);');
    fs.writeFileSync(large.fsPath, statements.join('\n'));
    const largeDocument = await vscode.workspace.openTextDocument(large);
    await vscode.window.showTextDocument(largeDocument);
    const lenses = async (resolve?: number) =>
      (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', large, resolve)) ?? [];
    const lastLine = largeDocument.lineCount - 1;
    const all = await waitFor('lenses down to the last statement', async () => {
      const l = await lenses();
      return l.some((x) => x.range.start.line === lastLine) ? l : undefined;
    });
    assert.equal(
      all.length,
      2 + 2500 * 4 + 2500 * 3 + 1,
      'the tally and Run All Checks; UPDATE: 4 lenses; SELECT: 3; the index: Run (write)',
    );
    assert.equal(
      all.filter((l) => l.command).length,
      2,
      "only the two at the top come with their command; the statements' are resolved when shown",
    );
    const resolved = await lenses(4);
    assert.deepEqual(
      resolved.map((l) => l.command?.title),
      [
        '2500 checks: 0 ✓ 0 ✗ 2500 not run',
        '$(run-all) Run All Checks',
        '$(play) Run',
        '$(person) Run as tenant…',
        '$(graph) Explain',
        '$(edit) Run (write)',
      ],
    );
    const late = await waitFor('the lint of the last statement', async () =>
      vscode.languages.getDiagnostics(large).find((d) => d.code === 'index-concurrently'),
    );
    assert.equal(late.range.start.line, lastLine);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });
});
