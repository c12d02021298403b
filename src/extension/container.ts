// The composition root: builds every service once, hands each its dependencies, registers the views and the
// command table, and disposes everything in reverse order with the extension.
import * as vscode from 'vscode';
import { ChecklistModel } from './checklist/model';
import { ChecklistRefresher } from './checklist/refresher';
import { ChecklistTree } from './checklist/tree';
import { DetailsDocuments } from './details';
import { registerCommands } from './commands/table';
import { COMMANDS } from './commands/definitions';
import { ConnectionService } from './connections/connections';
import { ProductionGuard } from './connections/safety';
import { PasswordStore } from './connections/secrets';
import { ContextKeys } from './context-keys';
import { EngineLoader } from './engine';
import { Disposable } from './lifecycle';
import type { ExtensionLog } from './log';
import { MigrationOpener } from './run/open-migration';
import { OperationRunner } from './run/runner';
import { SettingsAdapter } from './settings';
import { SpecFile } from './spec-file';
import { SqlEditor } from './sql-editor/sql-editor';
import type { StartupRegistrations } from './startup';
import { StatusBar } from './status-bar';

export class Container extends Disposable {
  readonly contextKeys = new ContextKeys();
  readonly settings: SettingsAdapter;
  readonly engines: EngineLoader;
  readonly specFile: SpecFile;
  readonly connections: ConnectionService;
  readonly guard: ProductionGuard;
  readonly model: ChecklistModel;
  readonly opener: MigrationOpener;
  readonly runner: OperationRunner;
  readonly tree: ChecklistTree;
  readonly details = new DetailsDocuments();
  readonly refresher: ChecklistRefresher;
  readonly sqlEditor: SqlEditor;

  constructor(
    readonly context: vscode.ExtensionContext,
    readonly log: ExtensionLog,
    startup: StartupRegistrations,
  ) {
    super();
    this.settings = this.register(new SettingsAdapter(log));
    this.engines = new EngineLoader(log);
    this.specFile = this.register(new SpecFile(this.settings, this.contextKeys));
    this.connections = this.register(
      new ConnectionService(this.settings, new PasswordStore(context.secrets), context.workspaceState),
    );
    this.guard = new ProductionGuard(context.globalState);
    this.model = this.register(new ChecklistModel());
    this.opener = new MigrationOpener(this.engines, this.specFile, this.connections, log);
    this.runner = this.register(
      new OperationRunner(this.opener, this.connections, this.guard, this.model, this.contextKeys, log),
    );
    this.tree = this.register(
      new ChecklistTree(
        this.model,
        {
          ready: () => vscode.workspace.isTrusted && !!this.specFile.uri && !!this.connections.selected(),
          connectionLabel: () => this.connections.selected()?.name,
          runLine: () => this.runner.progressLine(),
          tick: async (item) => {
            await vscode.commands.executeCommand('tenantMigration.tickManualItem', item);
          },
        },
        startup,
      ),
    );
    this.refresher = this.register(
      new ChecklistRefresher(this.opener, this.model, this.tree, this.runner, this.specFile, this.connections, log),
    );
    this.register(new StatusBar(this.connections, this.runner, this.model, this.settings, this.specFile));
    this.sqlEditor = this.register(
      new SqlEditor({
        engines: this.engines,
        settings: this.settings,
        specFile: this.specFile,
        connections: this.connections,
        opener: this.opener,
        guard: this.guard,
        contextKeys: this.contextKeys,
        log,
      }),
    );
    this.register(this.details.register());
    for (const d of registerCommands(COMMANDS, this, startup.registerCommand)) this.register(d);
    this.wireRefreshes();
  }

  /** While an operation runs, the checklist's header shows its elapsed time and time left, once a second. */
  private wireRunLine(): void {
    let timer: ReturnType<typeof setInterval> | undefined;
    const stop = () => {
      clearInterval(timer);
      timer = undefined;
    };
    this.register({ dispose: stop });
    this.register(
      this.runner.onDidChange((active) => {
        if (active && !timer) timer = setInterval(() => this.tree.refreshHeader(), 1000);
        if (!active) stop();
        this.tree.refreshHeader();
      }),
    );
  }

  private wireRefreshes(): void {
    this.wireRunLine();
    const update = () => {
      this.contextKeys.set('hasConnection', !!this.connections.selected());
      this.tree.refresh();
      if (this.tree.view.visible) void this.refresher.refresh();
    };
    let selected = this.connections.selected()?.name;
    this.register(
      this.connections.onDidChange((c) => {
        if (c?.name !== selected) this.model.reset();
        selected = c?.name;
        update();
      }),
    );
    this.register(this.specFile.onDidChange(update));
    this.register(vscode.workspace.onDidGrantWorkspaceTrust(update));
    let shown = false;
    this.register(
      this.tree.view.onDidChangeVisibility((e) => {
        if (e.visible && !shown) {
          shown = true;
          void this.refresher.refresh();
        }
      }),
    );
    this.contextKeys.set('hasConnection', !!this.connections.selected());
    if (this.tree.view.visible) {
      shown = true;
      void this.refresher.refresh();
    }
  }
}
