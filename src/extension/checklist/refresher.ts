// Reads the database's record (status()) into the checklist: when the view first shows, when the connection or
// the spec changes, when trust is granted, and on "Refresh". Never asks for anything and never writes.
import * as vscode from 'vscode';
import type { ConnectionService } from '../connections/connections';
import { errorText } from '../errors';
import { Disposable } from '../lifecycle';
import type { ExtensionLog } from '../log';
import type { MigrationOpener } from '../run/open-migration';
import type { OperationRunner } from '../run/runner';
import type { SpecFile } from '../spec-file';
import type { ChecklistModel } from './model';
import { CHECKLIST_VIEW, type ChecklistTree } from './tree';

export class ChecklistRefresher extends Disposable {
  private inFlight?: Promise<void>;
  private again = false;

  constructor(
    private readonly opener: MigrationOpener,
    private readonly model: ChecklistModel,
    private readonly tree: ChecklistTree,
    private readonly runner: OperationRunner,
    private readonly specFile: SpecFile,
    private readonly connections: ConnectionService,
    private readonly log: ExtensionLog,
  ) {
    super();
  }

  /** Resolves when the checklist shows what the database records (or why it cannot). */
  refresh(): Promise<void> {
    if (this.inFlight) {
      this.again = true;
      return this.inFlight;
    }
    this.inFlight = this.read().finally(() => {
      this.inFlight = undefined;
      if (this.again) {
        this.again = false;
        void this.refresh();
      }
    });
    return this.inFlight;
  }

  private async read(): Promise<void> {
    if (
      !vscode.workspace.isTrusted ||
      !this.specFile.uri ||
      !this.connections.selected() ||
      this.runner.active ||
      this.isDisposed
    )
      return;
    await vscode.window.withProgress({ location: { viewId: CHECKLIST_VIEW } }, async () => {
      try {
        await this.opener.with({ action: 'Reading the checklist', interactive: false }, async ({ migration }) => {
          this.model.applyStatus(await migration.status());
        });
        this.tree.setProblem(undefined);
      } catch (error) {
        const { message, next } = errorText(error);
        this.log.warn(`Could not read the migration state: ${message}${next ? ` — ${next}` : ''}`);
        this.tree.setProblem(
          `Cannot read the database: ${this.log.scrub(message)}. ${next ? this.log.scrub(next) : ''}`.trim(),
        );
      }
    });
  }
}
