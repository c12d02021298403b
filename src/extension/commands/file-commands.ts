// Commands that open or write workspace files: the spec, the script, the report.
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { stepDefinition, type ChecklistStep } from '../../engine/steps';
import type { Container } from '../container';
import { ActionableError } from '../errors';

const STEP_MARKER = '-- @tenant-migration step=';

export async function createSpec(c: Container): Promise<vscode.Uri | undefined> {
  const existing = c.specFile.uri;
  if (existing) {
    await vscode.window.showTextDocument(existing);
    return existing;
  }
  const target = c.specFile.defaultUri;
  if (!target)
    throw new ActionableError('No folder is open', 'Open the folder of the project to migrate, then create the spec.', [
      { title: 'Open Folder', command: 'vscode.openFolder' },
    ]);
  const { GUIDE_SPEC, GUIDE_CHECKS } = c.engines.get();
  // The extension associates the JSON Schema with the file itself, so the spec needs no $schema path.
  const { $schema: _schema, ...spec } = GUIDE_SPEC;
  fs.mkdirSync(path.dirname(target.fsPath), { recursive: true });
  fs.writeFileSync(target.fsPath, `${JSON.stringify(spec, null, 2)}\n`, { flag: 'wx' });
  c.log.info(`Created ${target.fsPath}`);
  // As `tenant-migrate init` does: the guide's validation queries as checks, for the SQL editor (kept if it exists).
  const checks = path.join(path.dirname(target.fsPath), 'checks.sql');
  if (!fs.existsSync(checks)) {
    fs.writeFileSync(checks, GUIDE_CHECKS);
    c.log.info(`Created ${checks}`);
  }
  await vscode.window.showTextDocument(target);
  void vscode.window
    .showInformationMessage(
      "Created tenant-migration.json for the guide's tables (and checks.sql with the guide's validation queries): adjust the table names and the default org, then preview the plan.",
      'Preview Plan',
    )
    .then((b) => b && vscode.commands.executeCommand('tenantMigration.previewPlan'));
  return target;
}

export async function generateScript(c: Container, force?: unknown): Promise<{ path: string; written: boolean }> {
  const result = await c.opener.with({ action: 'Generate Script', interactive: true }, async ({ migration }) => {
    const exists = fs.existsSync(migration.spec.scriptPath);
    if (exists && force !== true) {
      const answer = await vscode.window.showWarningMessage(
        `${vscode.workspace.asRelativePath(migration.spec.scriptPath)} exists. Regenerate it from the spec?`,
        {
          modal: true,
          detail:
            'The existing script (and any edits in it) is replaced. The team reviews the script: regenerate only if the spec changed.',
        },
        'Regenerate',
        'Open Existing',
      );
      if (answer !== 'Regenerate')
        return { path: migration.spec.scriptPath, written: false, open: answer === 'Open Existing' };
    }
    const out = await migration.generate(exists);
    c.log.info(`Generated ${out.path}`);
    return { ...out, open: true };
  });
  if (result.open) await vscode.window.showTextDocument(vscode.Uri.file(result.path), { preview: false });
  return { path: result.path, written: result.written };
}

/** Opens the script with the cursor on a 1-based line. */
export async function openScriptAt(c: Container, line: number): Promise<void> {
  const script = scriptPath(c);
  if (!fs.existsSync(script)) {
    throw new ActionableError(
      `${vscode.workspace.asRelativePath(script)} does not exist yet`,
      'Generate it from the spec (the preview shows what it will hold).',
      [{ title: 'Generate Script', command: 'tenantMigration.generateScript' }],
    );
  }
  const editor = await vscode.window.showTextDocument(vscode.Uri.file(script), { preview: false });
  const at = new vscode.Position(Math.max(0, Math.min(line - 1, editor.document.lineCount - 1)), 0);
  editor.selection = new vscode.Selection(at, at);
  editor.revealRange(new vscode.Range(at, at), vscode.TextEditorRevealType.AtTop);
}

export async function showStepSql(c: Container, step: ChecklistStep): Promise<number> {
  const script = scriptPath(c);
  // Where the step's SQL starts in the script: its phase marker (steps.ts), else the top.
  const phase = stepDefinition(step).showsSql;
  let line = 1;
  if (phase && phase !== 'top' && fs.existsSync(script)) {
    const index = fs
      .readFileSync(script, 'utf8')
      .split('\n')
      .findIndex((l) => l.trim() === `${STEP_MARKER}${phase}`);
    if (index >= 0) line = index + 1;
  }
  await openScriptAt(c, line);
  return line;
}

export async function openReport(c: Container): Promise<string | undefined> {
  const report = c.model.report?.path ?? latestReport(c);
  if (!report || !fs.existsSync(report)) {
    const answer = await vscode.window.showInformationMessage(
      'There is no run report yet: "Tenant Migration: Run" writes one when it ends. Write one now from what the database recorded?',
      'Write Report',
    );
    return answer ? writeReport(c) : undefined;
  }
  return openMarkdown(report);
}

/** The checklist's "Report" step: the report from what the database recorded, opened. */
export async function writeReport(c: Container): Promise<string> {
  const written = await c.opener.with({ action: 'Write Report', interactive: true }, ({ migration }) =>
    migration.writeReport(),
  );
  c.model.setReport(written);
  c.log.info(`Report written to ${written}`);
  return openMarkdown(written);
}

async function openMarkdown(file: string): Promise<string> {
  await vscode.commands
    .executeCommand('markdown.showPreview', vscode.Uri.file(file))
    .then(undefined, () => vscode.window.showTextDocument(vscode.Uri.file(file), { preview: false }));
  return file;
}

function latestReport(c: Container): string | undefined {
  const spec = c.specFile.uri;
  return spec && path.join(path.dirname(spec.fsPath), '.tenant-migration', 'reports', 'latest.md');
}

function scriptPath(c: Container): string {
  const spec = c.specFile.uri;
  if (!spec)
    throw new ActionableError('There is no tenant-migration.json in this workspace', 'Create one first.', [
      { title: 'Create tenant-migration.json', command: 'tenantMigration.createSpec' },
    ]);
  return c.engines.get().loadSpec(spec.fsPath).scriptPath;
}
