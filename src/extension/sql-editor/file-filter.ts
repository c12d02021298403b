// Which SQL files get the SQL editor: tenantMigration.sqlEditor.files (globs relative to a workspace folder;
// default checks.sql, *.checks.sql and the guide's script) and the script the spec names. Cheap: no engine, no parser.
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { SettingsAdapter } from '../settings';
import type { SpecFile } from '../spec-file';

export class SqlFileFilter {
  private specScript?: { spec: string; mtimeMs: number; script?: string };

  constructor(
    private readonly settings: SettingsAdapter,
    private readonly specFile: SpecFile,
  ) {}

  matches(document: vscode.TextDocument): boolean {
    if (
      document.uri.scheme !== 'file' ||
      (document.languageId !== 'sql' && !document.uri.fsPath.toLowerCase().endsWith('.sql'))
    )
      return false;
    const folder = vscode.workspace.getWorkspaceFolder(document.uri);
    if (!folder) return false;
    if (
      this.settings.value.sqlEditor.files.some(
        (glob) => vscode.languages.match({ pattern: new vscode.RelativePattern(folder, glob) }, document) > 0,
      )
    )
      return true;
    return this.isMigrationScript(document);
  }

  /** The script the spec names: its statements run through the runner (lock, audit, resume), not one by one. */
  isMigrationScript(document: vscode.TextDocument): boolean {
    const script = this.scriptOfSpec();
    return document.uri.scheme === 'file' && !!script && path.resolve(script) === path.resolve(document.uri.fsPath);
  }

  /** The spec's "script" (read without the engine: a path is all that is needed, and a wrong spec just matches nothing). */
  private scriptOfSpec(): string | undefined {
    const spec = this.specFile.uri?.fsPath;
    if (!spec) return undefined;
    try {
      const mtimeMs = fs.statSync(spec).mtimeMs;
      if (this.specScript?.spec !== spec || this.specScript.mtimeMs !== mtimeMs) {
        const match = /"script"\s*:\s*"((?:[^"\\]|\\.)*)"/.exec(fs.readFileSync(spec, 'utf8'));
        const relative = match ? (JSON.parse(`"${match[1]}"`) as string) : 'scripts/migrate_to_multitenant.sql';
        this.specScript = { spec, mtimeMs, script: path.resolve(path.dirname(spec), relative) };
      }
      return this.specScript.script;
    } catch {
      return undefined; // the spec went away between the check and the read: nothing matches through it
    }
  }
}
