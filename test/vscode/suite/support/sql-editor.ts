// Shared by the in-host SQL editor suites (sql-editor, sql-editor-lint-and-cancel): the checks file both open, and how
// each suite opens it on a fresh database of its own with its own connection profile.
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { addProfile, extension, freshDatabase } from '../helpers';

export type RunSummary = {
  state: string;
  summary?: string;
  message?: string;
  check?: { ok: boolean; expected: string; actual: string };
};

export const CHECKS = `\\d+ credentials

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

/** A fresh database (label) selected as the connection profile `profile`, and CHECKS written to `fileName` in the workspace folder and shown. */
export async function openChecks(label: string, profile: string, fileName: string) {
  const { api } = await extension();
  const database = await freshDatabase(label);
  await addProfile(profile, database);
  const folder = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
  const file = path.join(folder, fileName);
  fs.writeFileSync(file, CHECKS);
  const uri = vscode.Uri.file(file);
  const document = await vscode.workspace.openTextDocument(uri);
  await vscode.window.showTextDocument(document);
  return { api, database, uri, document };
}

/** The statement lenses of `uri` as "line:title"; they get their commands when VS Code resolves them (as it does for the ones on screen). */
export const lensTitlesOf = async (uri: vscode.Uri) =>
  ((await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 1000)) ?? []).map(
    (l) => `${l.range.start.line}:${l.command?.title ?? ''}`,
  );
/** The extension's diagnostics on `uri`. */
export const diagnosticsOf = (uri: vscode.Uri) =>
  vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'Tenant Migration');
