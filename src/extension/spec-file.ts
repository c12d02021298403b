// Finds the spec (tenantMigration.specFile, default tenant-migration.json) in the workspace folders, watches it,
// and keeps the hasSpec context key true to the file system.
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { Disposable } from './lifecycle';
import type { ContextKeys } from './context-keys';
import type { SettingsAdapter } from './settings';

export class SpecFile extends Disposable {
  private watchers: vscode.Disposable[] = [];
  private readonly changed = this.register(new vscode.EventEmitter<vscode.Uri | undefined>());
  /** The spec appeared, changed, or disappeared. */
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly settings: SettingsAdapter,
    private readonly contextKeys: ContextKeys,
  ) {
    super();
    this.watch();
    this.register(settings.onDidChange(() => this.watch()));
    this.register(vscode.workspace.onDidChangeWorkspaceFolders(() => this.watch()));
    this.register({ dispose: () => this.watchers.forEach((w) => w.dispose()) });
  }

  /** The first workspace folder's spec that exists. */
  get uri(): vscode.Uri | undefined {
    for (const candidate of this.candidates()) if (fs.existsSync(candidate.fsPath)) return candidate;
    return undefined;
  }

  /** Where a new spec goes: in the first workspace folder. */
  get defaultUri(): vscode.Uri | undefined {
    return this.candidates()[0];
  }

  private candidates(): vscode.Uri[] {
    const file = this.settings.value.specFile;
    return (vscode.workspace.workspaceFolders ?? []).map((f) =>
      path.isAbsolute(file) ? vscode.Uri.file(file) : vscode.Uri.joinPath(f.uri, file),
    );
  }

  private watch(): void {
    this.watchers.forEach((w) => w.dispose());
    this.watchers = [];
    const file = this.settings.value.specFile;
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      const pattern = path.isAbsolute(file)
        ? new vscode.RelativePattern(vscode.Uri.file(path.dirname(file)), path.basename(file))
        : new vscode.RelativePattern(folder, file);
      const watcher = vscode.workspace.createFileSystemWatcher(pattern);
      const update = () => this.update();
      this.watchers.push(
        watcher,
        watcher.onDidCreate(update),
        watcher.onDidChange(update),
        watcher.onDidDelete(update),
      );
    }
    this.update();
  }

  private update(): void {
    const uri = this.uri;
    this.contextKeys.set('hasSpec', !!uri);
    this.changed.fire(uri);
  }
}
