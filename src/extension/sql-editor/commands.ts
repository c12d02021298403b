// The SQL editor's commands. From a CodeLens they get (file, statement start); from the palette or the editor's
// context menu, the statement at the cursor of the active editor. Each returns what happened (for automation).
import * as vscode from 'vscode';
import type { Container } from '../container';
import { ActionableError } from '../errors';
import type { Outcome, RunKind } from './results';
import { statementAt, type Found } from './statement-at';
import { checkTally, type Tally } from './tally';

export interface RunSummary {
  readonly state: Outcome['state'];
  readonly summary?: string;
  readonly message?: string;
  readonly check?: { ok: boolean; expected: string; actual: string };
}

const summaryOf = (o: Outcome): RunSummary =>
  o.state === 'done'
    ? { state: o.state, summary: o.summary, check: o.check }
    : o.state === 'failed'
      ? { state: o.state, message: o.message, check: o.check }
      : { state: o.state };

async function documentOf(c: Container, uriArg: unknown): Promise<vscode.TextDocument> {
  const uri =
    uriArg instanceof vscode.Uri
      ? uriArg
      : typeof uriArg === 'string'
        ? vscode.Uri.parse(uriArg)
        : vscode.window.activeTextEditor?.document.uri;
  if (!uri)
    throw new ActionableError(
      'No SQL file is open',
      'Open a checks file or the migration script, put the cursor in a statement, and run it again.',
    );
  const document = await vscode.workspace.openTextDocument(uri);
  if (!c.sqlEditor.models.filter.matches(document)) {
    throw new ActionableError(
      `${vscode.workspace.asRelativePath(uri)} is not one of the SQL files the editor covers`,
      'Add a pattern for it to the setting tenantMigration.sqlEditor.files.',
      [{ title: 'Open Settings', command: 'workbench.action.openSettings', args: ['tenantMigration.sqlEditor.files'] }],
    );
  }
  await c.sqlEditor.models.load();
  return document;
}

async function target(
  c: Container,
  uriArg: unknown,
  offsetArg: unknown,
): Promise<{ document: vscode.TextDocument; found: Found }> {
  const document = await documentOf(c, uriArg);
  const model = c.sqlEditor.models.whole(document);
  const editor = vscode.window.activeTextEditor;
  const where = typeof offsetArg === 'number' ? offsetArg : editor?.document === document ? editor.selection.active : 0;
  const found = model && statementAt(document, model.statements, where);
  if (!found)
    throw new ActionableError(
      'There is no statement here',
      'Put the cursor in a statement (or above one) and run it again.',
    );
  return { document, found };
}

export async function runStatementCommand(
  c: Container,
  kind: Exclude<RunKind, 'describe' | 'tenant'>,
  uri: unknown,
  offset: unknown,
): Promise<RunSummary> {
  const { document, found } = await target(c, uri, offset);
  if (kind === 'write' && c.sqlEditor.models.filter.isMigrationScript(document)) {
    throw new ActionableError(
      "The migration script's statements do not run one by one: that would bypass the run lock, the audit log and the resume state",
      "Run the migration through the runner (the checklist's Run).",
      [{ title: 'Run Migration', command: 'tenantMigration.run' }],
    );
  }
  const actual = found.statement.item.kind === 'meta' ? 'describe' : kind;
  return summaryOf(await c.sqlEditor.runner.run({ uri: document.uri, statement: found.statement, kind: actual }));
}

export async function runAsTenantCommand(
  c: Container,
  uri: unknown,
  offset: unknown,
  orgArg: unknown,
): Promise<RunSummary | undefined> {
  const { document, found } = await target(c, uri, offset);
  let org = typeof orgArg === 'string' || typeof orgArg === 'number' ? String(orgArg) : undefined;
  if (org === undefined) {
    const spec = c.specFile.uri;
    if (!spec)
      throw new ActionableError(
        'Run as tenant needs tenant-migration.json',
        'Create it: its tenantContext says how the database knows the tenant.',
        [{ title: 'Create tenant-migration.json', command: 'tenantMigration.createSpec' }],
      );
    const engine = c.engines.get();
    const orgs = await c.sqlEditor.session.use('Run as tenant', true, (session) =>
      engine.listOrgs(session, engine.loadSpec(spec.fsPath)),
    );
    const picked = await vscode.window.showQuickPick(
      orgs.map((o) => ({ label: o.label ?? o.id, description: o.label ? o.id : undefined, id: o.id })),
      {
        title: 'Tenant Migration: Run as tenant',
        placeHolder: 'The org whose tenant context the statement runs with (rolled back)',
        matchOnDescription: true,
      },
    );
    if (!picked) return undefined;
    org = picked.id;
  }
  return summaryOf(
    await c.sqlEditor.runner.run({ uri: document.uri, statement: found.statement, kind: 'tenant', org }),
  );
}

/** Runs every check of the file, one after the other; the tally comes back and shows at the top of the file. */
export async function runAllChecks(c: Container, uri: unknown): Promise<Tally> {
  const document = await documentOf(c, uri);
  const model = c.sqlEditor.models.whole(document);
  if (!model) throw new Error('The SQL parser is not loaded');
  const engine = c.engines.get();
  const checks = model.statements.filter((s) => engine.isCheck(s));
  if (checks.length === 0) {
    void vscode.window.showInformationMessage(
      'This file has no checks: write "-- expect: 0" (or empty, rows = 3, \'text\') above a statement to make it one.',
    );
  }
  let first = true;
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Window, title: 'Tenant Migration: running checks' },
    async (progress) => {
      for (const [i, statement] of checks.entries()) {
        progress.report({ message: `${i + 1} of ${checks.length}` });
        const outcome = await c.sqlEditor.runner.run({
          uri: document.uri,
          statement,
          kind: 'read',
          interactive: first,
        });
        first = false;
        if (outcome.state === 'failed' && outcome.cancelled) break;
      }
    },
  );
  const tally = checkTally(model.statements, (text) => c.sqlEditor.results.get(document.uri, text));
  c.log.info(`SQL editor: ${vscode.workspace.asRelativePath(document.uri)}: ${tally.title}`);
  return tally;
}

export async function showStatementResult(c: Container, uri: unknown, offset: unknown): Promise<string | undefined> {
  const { document, found } = await target(c, uri, offset);
  const outcome = c.sqlEditor.results.get(document.uri, found.statement.item.text);
  if (!outcome) {
    void vscode.window.showInformationMessage('This statement has not run yet: use its Run CodeLens first.');
    return undefined;
  }
  const shown = await c.sqlEditor.view.show(
    document.uri,
    found.statement.item.line,
    found.statement.item.text,
    outcome,
  );
  return shown.getText();
}

export function cancelStatement(c: Container): Promise<boolean> {
  return c.sqlEditor.session.cancel();
}
