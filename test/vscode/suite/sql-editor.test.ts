// The SQL editor in the real VS Code against a real PostgreSQL: CodeLens above every statement (a syntax error in
// one leaves the others), checks with ✓/✗ inline and failures in Problems, the hover's table and the full result,
// read-only by default and writes only when asked (confirmed on production), run as a tenant, Explain, \d+ from the
// catalog, the lint as you type with its quick fix, the statement timeout, and Cancel stopping the statement on the server.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { TenantMigrationApi } from '../../../src/extension/api';
import { addProfile, extension, freshDatabase, query, waitFor } from './helpers';

type RunSummary = { state: string; summary?: string; message?: string; check?: { ok: boolean; expected: string; actual: string } };

const CHECKS = `\\d+ credentials

-- expect: 0
SELECT count(*) FROM credentials WHERE id IS NULL;
-- expect: 0
SELECT count(*) FROM reports;
-- expect: rows = 2
SELECT id FROM orgs ORDER BY id LIMIT 2;

SELEC broken FROM nowhere;

SELECT name FROM orgs ORDER BY id;

CREATE INDEX reports_title ON reports (title);

DELETE FROM reports WHERE id = 1;
`;

describe('SQL editor', () => {
  let api: TenantMigrationApi;
  let database: string;
  let uri: vscode.Uri;
  let document: vscode.TextDocument;
  const offsetOf = (text: string) => { const i = document.getText().indexOf(text); assert.ok(i >= 0, text); return i; };
  // The statement lenses get their commands when VS Code resolves them (as it does for the ones on screen).
  const lensTitles = async () => ((await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 1000)) ?? [])
    .map((l) => `${l.range.start.line}:${l.command?.title ?? ''}`);
  const diagnostics = () => vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'Tenant Migration');

  before(async function () {
    this.timeout(120_000);
    ({ api } = await extension());
    database = await freshDatabase('sql');
    await addProfile('sql', database);
    const folder = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    const file = path.join(folder, 'validation.checks.sql');
    fs.writeFileSync(file, CHECKS);
    uri = vscode.Uri.file(file);
    document = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(document);
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('puts CodeLens above every statement, also after a syntax error; Describe for \\d+; Run (write) only where something changes', async () => {
    const titles = await waitFor('the CodeLens', async () => { const t = await lensTitles(); return t.length > 10 ? t : undefined; });
    const line = (text: string) => document.positionAt(offsetOf(text)).line;
    const at = (text: string) => titles.filter((t) => t.startsWith(`${line(text)}:`)).map((t) => t.slice(t.indexOf(':') + 1));
    assert.deepEqual(at('\\d+ credentials'), ['3 checks: 0 ✓ 0 ✗ 3 not run', '$(run-all) Run All Checks', '$(info) Describe']);
    assert.deepEqual(at('SELECT count(*) FROM reports'), ['$(play) Run', '$(person) Run as tenant…', '$(graph) Explain']);
    assert.deepEqual(at('SELECT name FROM orgs'), ['$(play) Run', '$(person) Run as tenant…', '$(graph) Explain'], 'the statement after the syntax error has its lenses');
    assert.deepEqual(at('DELETE FROM reports'), ['$(play) Run', '$(person) Run as tenant…', '$(graph) Explain', '$(edit) Run (write)']);
    const other = path.join(path.dirname(uri.fsPath), 'not-covered.sql');
    fs.writeFileSync(other, 'SELECT 1;\n');
    await vscode.workspace.openTextDocument(other);
    const none = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', vscode.Uri.file(other));
    assert.deepEqual(none, [], 'a SQL file outside tenantMigration.sqlEditor.files gets no CodeLens');
  });

  it('runs every check: ✓ and ✗ inline, the tally at the top, the failure in Problems with the actual value', async () => {
    const [reports] = await query<{ n: string }>(database, 'SELECT count(*)::text AS n FROM reports');
    const tally = await vscode.commands.executeCommand<{ total: number; passed: number; failed: number }>('tenantMigration.runAllChecks', uri);
    assert.deepEqual([tally.total, tally.passed, tally.failed], [3, 2, 1]);
    const inline = api.sqlInlineResults(uri);
    const lineOf = (text: string) => document.positionAt(document.getText().indexOf(';', offsetOf(text))).line;
    assert.deepEqual(inline.map((d) => [d.line, d.text, d.tone]), [
      [lineOf('SELECT count(*) FROM credentials'), '→ 0  ✓', 'passed'],
      [lineOf('SELECT count(*) FROM reports'), `→ ${reports!.n}  ✗ expected 0`, 'failed'],
      [lineOf('SELECT id FROM orgs'), '→ 2 rows  ✓', 'passed'],
    ]);
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
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, document.positionAt(at + 7));
    const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
    assert.match(text, /\*\*Result\*\* \(read-only, rolled back/);
    assert.match(text, /\| name \|\n\| --- \|/);
    for (const name of names) assert.ok(text.includes(name.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, (c) => `\\${c}`)), `the hover shows ${name}`);
    assert.match(text, /command:tenantMigration\.showStatementResult/);
    const full = await vscode.commands.executeCommand<string>('tenantMigration.showStatementResult', uri, at);
    assert.match(full, new RegExp(`\\(${names.length} rows\\)`));
    assert.ok(names.every((n) => full.includes(n)));
    const describe = await vscode.commands.executeCommand<RunSummary>('tenantMigration.runStatement', uri, offsetOf('\\d+ credentials'));
    assert.equal(describe.summary, '→ Table "public.credentials"');
    const described = await vscode.commands.executeCommand<string>('tenantMigration.showStatementResult', uri, offsetOf('\\d+ credentials'));
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
    assert.equal((await query(database, 'SELECT 1 FROM reports WHERE id = 1')).length, 1, 'the read-only run deleted nothing');
    const inline = api.sqlInlineResults(uri).find((d) => d.line === document.positionAt(at).line)!;
    assert.equal(inline.tone, 'failed');
    const write = await vscode.commands.executeCommand<RunSummary>('tenantMigration.runStatementWrite', uri, at);
    assert.deepEqual(write, { state: 'done', summary: '→ DELETE 1', check: undefined });
    assert.equal((await query(database, 'SELECT 1 FROM reports WHERE id = 1')).length, 0, 'Run (write) committed');
  });

  it('runs as a tenant: the role and the tenant context set, then rolled back', async () => {
    const [org] = await query<{ id: string }>(database, 'SELECT id::text AS id FROM orgs ORDER BY id LIMIT 1');
    const edit = new vscode.WorkspaceEdit();
    edit.insert(uri, document.positionAt(document.getText().length), "\nSELECT current_user AS role, nullif(current_setting('request.jwt.claims', true), '')::json ->> 'org_id' AS org;\n");
    assert.ok(await vscode.workspace.applyEdit(edit));
    const at = offsetOf('SELECT current_user');
    const asTenant = await vscode.commands.executeCommand<RunSummary>('tenantMigration.runStatementAsTenant', uri, at, org!.id);
    assert.equal(asTenant.state, 'done', asTenant.message);
    const full = await vscode.commands.executeCommand<string>('tenantMigration.showStatementResult', uri, at);
    assert.match(full, new RegExp(`authenticated +\\| ${org!.id}`));
    assert.match(api.sqlInlineResults(uri).find((d) => d.line === document.positionAt(at).line)!.text, new RegExp(`as org ${org!.id}`));
    await vscode.commands.executeCommand<RunSummary>('tenantMigration.runStatement', uri, at);
    const after = await vscode.commands.executeCommand<string>('tenantMigration.showStatementResult', uri, at);
    assert.match(after, /postgres +\| null/, 'the tenant role and context did not outlive the rolled-back transaction');
  });

  it('lints as you type, with table sizes from the database, syntax errors on their statement, and a quick fix that applies', async () => {
    const found = await waitFor('the lint', () => { const d = diagnostics(); return d.some((x) => x.code === 'not-idempotent') ? d : undefined; });
    const codes = found.map((d) => d.code);
    for (const code of ['lock-timeout', 'not-idempotent', 'syntax']) assert.ok(codes.includes(code), `${code} in ${codes.join(', ')}`);
    assert.ok(!codes.includes('index-concurrently'), `reports is small in the connected database (600 rows < 10,000): ${codes.join(', ')}`);
    assert.equal(found.find((d) => d.code === 'syntax')!.range.start.line, document.positionAt(offsetOf('SELEC broken')).line);
    const config = vscode.workspace.getConfiguration('tenantMigration');
    await config.update('sqlEditor.largeTableRows', 100, vscode.ConfigurationTarget.Global);
    try {
      const concurrently = await waitFor('the index warning once 600 rows count as large', () => diagnostics().find((d) => d.code === 'index-concurrently'));
      const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', uri, concurrently.range);
      const fix = actions.find((a) => a.title === 'Build it CONCURRENTLY');
      assert.ok(fix?.edit, actions.map((a) => a.title).join(', '));
      assert.ok(await vscode.workspace.applyEdit(fix.edit));
      assert.match(document.getText(), /CREATE INDEX CONCURRENTLY reports_title ON reports/);
      await waitFor('the lint to drop the fixed warning', () => !diagnostics().some((d) => d.code === 'index-concurrently'), 10_000);
    } finally {
      await config.update('sqlEditor.largeTableRows', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  it('takes the lint settings of tenant-migration.json: a rule the spec turns off is gone, and back when the spec is restored', async () => {
    await waitFor('the lint', () => diagnostics().some((d) => d.code === 'not-idempotent'));
    const others = [...new Set(diagnostics().map((d) => String(d.code)).filter((c) => c !== 'not-idempotent'))].sort();
    assert.ok(others.length > 0, 'other diagnostics to keep');
    const specPath = path.join(vscode.workspace.workspaceFolders![0]!.uri.fsPath, 'tenant-migration.json');
    const original = fs.readFileSync(specPath, 'utf8');
    try {
      fs.writeFileSync(specPath, JSON.stringify({ ...JSON.parse(original), lint: { rules: { 'not-idempotent': false } } }, null, 2));
      await waitFor('the rule the spec turned off to go', () => !diagnostics().some((d) => d.code === 'not-idempotent'), 15_000);
      assert.deepEqual([...new Set(diagnostics().map((d) => String(d.code)))].sort(), others, 'the other diagnostics stay');
    } finally {
      fs.writeFileSync(specPath, original);
    }
    await waitFor('the rule back once the spec no longer turns it off', () => diagnostics().some((d) => d.code === 'not-idempotent'), 15_000);
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
    const sleeping = () => query(database, `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'SELECT pg_sleep(60)%' AND state = 'active'`);
    await waitFor('the statement to run on the server', async () => ((await sleeping()).length ? true : undefined));
    assert.ok((await lensTitles()).some((t) => t.endsWith('$(debug-stop) Cancel')), 'a Cancel CodeLens while it runs');
    const started = Date.now();
    assert.equal(await vscode.commands.executeCommand('tenantMigration.cancelStatement'), true);
    const cancelled = await running;
    assert.ok(Date.now() - started < 10_000);
    assert.equal(cancelled.message, 'Cancelled: the server stopped the statement.');
    assert.deepEqual(await sleeping(), []);
  });

  it('on a production connection, writes nothing unless the database name is typed', async () => {
    const production = await freshDatabase('sqlprod');
    await addProfile('sql-production', production, { production: true });
    try {
      const pending = vscode.commands.executeCommand<RunSummary>('tenantMigration.runStatementWrite', uri, offsetOf('DELETE FROM reports'));
      await new Promise((r) => setTimeout(r, 1500));
      await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
      const result = await pending;
      assert.deepEqual([result.state, result.message], ['failed', 'Not confirmed: nothing was run.']);
      assert.equal((await query(production, 'SELECT 1 FROM reports WHERE id = 1')).length, 1, 'nothing was deleted');
    } finally {
      await vscode.commands.executeCommand('tenantMigration.selectConnection', 'sql');
    }
  });

  it('gives a 5,000-statement file (split in chunks) lenses down to its last statement, the tally of all its checks, and the lint of its last statement', async () => {
    const folder = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    const large = vscode.Uri.file(path.join(folder, 'large.checks.sql'));
    const statements = Array.from({ length: 5000 }, (_, i) => (i % 2 ? `-- expect: 0\nSELECT count(*) FROM reports WHERE id = -${i};` : `UPDATE reports SET title = title WHERE id = ${i};`));
    statements.push('CREATE INDEX audit_late ON audit_trail_not_created_yet (at);');
    fs.writeFileSync(large.fsPath, statements.join('\n'));
    const largeDocument = await vscode.workspace.openTextDocument(large);
    await vscode.window.showTextDocument(largeDocument);
    const lenses = async (resolve?: number) => (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', large, resolve)) ?? [];
    const lastLine = largeDocument.lineCount - 1;
    const all = await waitFor('lenses down to the last statement', async () => { const l = await lenses(); return l.some((x) => x.range.start.line === lastLine) ? l : undefined; });
    assert.equal(all.length, 2 + 2500 * 4 + 2500 * 3 + 1, 'the tally and Run All Checks; UPDATE: 4 lenses; SELECT: 3; the index: Run (write)');
    assert.equal(all.filter((l) => l.command).length, 2, 'only the two at the top come with their command; the statements\' are resolved when shown');
    const resolved = await lenses(4);
    assert.deepEqual(resolved.map((l) => l.command?.title), ['2500 checks: 0 ✓ 0 ✗ 2500 not run', '$(run-all) Run All Checks', '$(play) Run', '$(person) Run as tenant…', '$(graph) Explain', '$(edit) Run (write)']);
    const late = await waitFor('the lint of the last statement', async () => vscode.languages.getDiagnostics(large).find((d) => d.code === 'index-concurrently'));
    assert.equal(late.range.start.line, lastLine);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });
});
