// The SQL editor in the real VS Code against a real PostgreSQL: CodeLens above every statement (a syntax error in
// one leaves the others), checks with ✓/✗ inline and failures in Problems, the hover's table and the full result,
// read-only by default and writes only when asked (confirmed on production), run as a tenant, Explain, \d+ from the
// catalog. (The lint, the statement timeout, Cancel and a large file: sql-editor-lint-and-cancel.test.ts.)
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { TenantMigrationApi } from '../../../src/extension/api';
import { addProfile, freshDatabase, query, waitFor } from './helpers';
import { diagnosticsOf, lensTitlesOf, openChecks, type RunSummary } from './support/sql-editor';

describe('SQL editor', () => {
  let api: TenantMigrationApi;
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
    ({ api, database, uri, document } = await openChecks('sql', 'sql', 'validation.checks.sql'));
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('puts CodeLens above every statement, also after a syntax error; Describe for \\d+; Run (write) only where something changes', async () => {
    const titles = await waitFor('the CodeLens', async () => {
      const t = await lensTitles();
      return t.length > 10 ? t : undefined;
    });
    const line = (text: string) => document.positionAt(offsetOf(text)).line;
    const at = (text: string) =>
      titles.filter((t) => t.startsWith(`${line(text)}:`)).map((t) => t.slice(t.indexOf(':') + 1));
    assert.deepEqual(at('\\d+ credentials'), [
      '3 checks: 0 ✓ 0 ✗ 3 not run',
      '$(run-all) Run All Checks',
      '$(info) Describe',
    ]);
    assert.deepEqual(at('SELECT count(*) FROM reports'), [
      '$(play) Run',
      '$(person) Run as tenant…',
      '$(graph) Explain',
    ]);
    assert.deepEqual(
      at('SELECT name FROM orgs'),
      ['$(play) Run', '$(person) Run as tenant…', '$(graph) Explain'],
      'the statement after the syntax error has its lenses',
    );
    assert.deepEqual(at('DELETE FROM reports'), [
      '$(play) Run',
      '$(person) Run as tenant…',
      '$(graph) Explain',
      '$(edit) Run (write)',
    ]);
    const other = path.join(path.dirname(uri.fsPath), 'not-covered.sql');
    fs.writeFileSync(other, 'SELECT 1;\n');
    await vscode.workspace.openTextDocument(other);
    const none = await vscode.commands.executeCommand<vscode.CodeLens[]>(
      'vscode.executeCodeLensProvider',
      vscode.Uri.file(other),
    );
    assert.deepEqual(none, [], 'a SQL file outside tenantMigration.sqlEditor.files gets no CodeLens');
  });

  it('runs every check: ✓ and ✗ inline, the tally at the top, the failure in Problems with the actual value', async () => {
    const [reports] = await query<{ n: string }>(database, 'SELECT count(*)::text AS n FROM reports');
    const tally = await vscode.commands.executeCommand<{ total: number; passed: number; failed: number }>(
      'tenantMigration.runAllChecks',
      uri,
    );
    assert.deepEqual([tally.total, tally.passed, tally.failed], [3, 2, 1]);
    const inline = api.sqlInlineResults(uri);
    const lineOf = (text: string) => document.positionAt(document.getText().indexOf(';', offsetOf(text))).line;
    assert.deepEqual(
      inline.map((d) => [d.line, d.text, d.tone]),
      [
        [lineOf('SELECT count(*) FROM credentials'), '→ 0  ✓', 'passed'],
        [lineOf('SELECT count(*) FROM reports'), `→ ${reports!.n}  ✗ expected 0`, 'failed'],
        [lineOf('SELECT id FROM orgs'), '→ 2 rows  ✓', 'passed'],
      ],
    );
    assert.ok((await lensTitles()).includes('0:3 checks: 2 ✓ 1 ✗'), (await lensTitles()).slice(0, 3).join(', '));
    const failed = await waitFor('the failed check in Problems', () => diagnostics().find((d) => d.code === 'check'));
    assert.equal(failed.message, `Check failed: expected 0, got ${reports!.n}`);
    assert.equal(failed.severity, vscode.DiagnosticSeverity.Error);
    assert.equal(failed.range.start.line, document.positionAt(offsetOf('SELECT count(*) FROM reports')).line);
  });

  it('shows the first rows in a hover and the whole result on demand; \\d+ answers from the catalog', async () => {
    const at = offsetOf('SELECT name FROM orgs');
    const run = await vscode.commands.executeCommand<RunSummary>('tenantMigration.runStatement', uri, at);
    const names = (await query<{ name: string }>(database, 'SELECT name FROM orgs ORDER BY id')).map((r) => r.name);
    assert.deepEqual(run, { state: 'done', summary: `→ ${names.length} rows`, check: undefined });
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>(
      'vscode.executeHoverProvider',
      uri,
      document.positionAt(at + 7),
    );
    const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
    assert.match(text, /\*\*Result\*\* \(read-only, rolled back/);
    assert.match(text, /\| name \|\n\| --- \|/);
    for (const name of names)
      assert.ok(text.includes(name.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, (c) => `\\${c}`)), `the hover shows ${name}`);
    assert.match(text, /command:tenantMigration\.showStatementResult/);
    const full = await vscode.commands.executeCommand<string>('tenantMigration.showStatementResult', uri, at);
    assert.match(full, new RegExp(`\\(${names.length} rows\\)`));
    assert.ok(names.every((n) => full.includes(n)));
    const describe = await vscode.commands.executeCommand<RunSummary>(
      'tenantMigration.runStatement',
      uri,
      offsetOf('\\d+ credentials'),
    );
    assert.equal(describe.summary, '→ Table "public.credentials"');
    const described = await vscode.commands.executeCommand<string>(
      'tenantMigration.showStatementResult',
      uri,
      offsetOf('\\d+ credentials'),
    );
    assert.match(described, /Column +\| Type +\| Nullable/);
    assert.match(described, /Rows \(estimate\)/);
    const explain = await vscode.commands.executeCommand<RunSummary>('tenantMigration.explainStatement', uri, at);
    assert.match(explain.summary ?? '', /^→ (Sort|Index Scan|Seq Scan)/);
    // From the palette: the statement the cursor is on, also past its semicolon.
    const editor = await vscode.window.showTextDocument(document);
    const end = document.lineAt(document.positionAt(at).line).range.end;
    editor.selection = new vscode.Selection(end, end);
    const fromCursor = await vscode.commands.executeCommand<RunSummary>('tenantMigration.runStatement');
    assert.equal(fromCursor.summary, `→ ${names.length} rows`);
  });

  it('runs read-only by default; writes only with Run (write)', async () => {
    const at = offsetOf('DELETE FROM reports');
    const readOnly = await vscode.commands.executeCommand<RunSummary>('tenantMigration.runStatement', uri, at);
    assert.equal(readOnly.state, 'failed');
    assert.match(readOnly.message ?? '', /read-only transaction.*Run \(write\)/);
    assert.equal(
      (await query(database, 'SELECT 1 FROM reports WHERE id = 1')).length,
      1,
      'the read-only run deleted nothing',
    );
    const inline = api.sqlInlineResults(uri).find((d) => d.line === document.positionAt(at).line)!;
    assert.equal(inline.tone, 'failed');
    const write = await vscode.commands.executeCommand<RunSummary>('tenantMigration.runStatementWrite', uri, at);
    assert.deepEqual(write, { state: 'done', summary: '→ DELETE 1', check: undefined });
    assert.equal((await query(database, 'SELECT 1 FROM reports WHERE id = 1')).length, 0, 'Run (write) committed');
  });

  it('runs as a tenant: the role and the tenant context set, then rolled back', async () => {
    const [org] = await query<{ id: string }>(database, 'SELECT id::text AS id FROM orgs ORDER BY id LIMIT 1');
    const edit = new vscode.WorkspaceEdit();
    edit.insert(
      uri,
      document.positionAt(document.getText().length),
      "\nSELECT current_user AS role, nullif(current_setting('request.jwt.claims', true), '')::json ->> 'org_id' AS org;\n",
    );
    assert.ok(await vscode.workspace.applyEdit(edit));
    const at = offsetOf('SELECT current_user');
    const asTenant = await vscode.commands.executeCommand<RunSummary>(
      'tenantMigration.runStatementAsTenant',
      uri,
      at,
      org!.id,
    );
    assert.equal(asTenant.state, 'done', asTenant.message);
    const full = await vscode.commands.executeCommand<string>('tenantMigration.showStatementResult', uri, at);
    assert.match(full, new RegExp(`authenticated +\\| ${org!.id}`));
    assert.match(
      api.sqlInlineResults(uri).find((d) => d.line === document.positionAt(at).line)!.text,
      new RegExp(`as org ${org!.id}`),
    );
    await vscode.commands.executeCommand<RunSummary>('tenantMigration.runStatement', uri, at);
    const after = await vscode.commands.executeCommand<string>('tenantMigration.showStatementResult', uri, at);
    assert.match(after, /postgres +\| null/, 'the tenant role and context did not outlive the rolled-back transaction');
  });

  it('on a production connection, writes nothing unless the database name is typed', async () => {
    const production = await freshDatabase('sqlprod');
    await addProfile('sql-production', production, { production: true });
    try {
      const pending = vscode.commands.executeCommand<RunSummary>(
        'tenantMigration.runStatementWrite',
        uri,
        offsetOf('DELETE FROM reports'),
      );
      await new Promise((r) => setTimeout(r, 1500));
      await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
      const result = await pending;
      assert.deepEqual([result.state, result.message], ['failed', 'Not confirmed: nothing was run.']);
      assert.equal((await query(production, 'SELECT 1 FROM reports WHERE id = 1')).length, 1, 'nothing was deleted');
    } finally {
      await vscode.commands.executeCommand('tenantMigration.selectConnection', 'sql');
    }
  });
});
