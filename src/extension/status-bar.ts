// The status bar item: the selected connection, and while an operation runs, its current step and progress.
import * as vscode from 'vscode';
import { STEP_TITLES, type ChecklistStep } from '../engine/events';
import type { ChecklistModel } from './checklist/model';
import { percent } from './checklist/format';
import type { ConnectionService } from './connections/connections';
import { Disposable } from './lifecycle';
import type { OperationRunner } from './run/runner';
import type { SettingsAdapter } from './settings';
import type { SpecFile } from './spec-file';

export class StatusBar extends Disposable {
  private readonly item = this.register(
    vscode.window.createStatusBarItem('tenantMigration.status', vscode.StatusBarAlignment.Left, 50),
  );

  constructor(
    private readonly connections: ConnectionService,
    private readonly runner: OperationRunner,
    private readonly model: ChecklistModel,
    private readonly settings: SettingsAdapter,
    private readonly specFile: SpecFile,
  ) {
    super();
    this.item.name = 'Tenant Migration';
    for (const event of [
      connections.onDidChange,
      runner.onDidChange,
      settings.onDidChange,
      specFile.onDidChange,
    ] as vscode.Event<unknown>[]) {
      this.register(event(() => this.update()));
    }
    // The checklist changes many times a second during a backfill: a few updates a second are plenty here.
    let timer: ReturnType<typeof setTimeout> | undefined;
    this.register(
      model.onDidChange(() => {
        timer ??= setTimeout(() => {
          timer = undefined;
          this.update();
        }, 250);
      }),
    );
    this.register({ dispose: () => clearTimeout(timer) });
    this.update();
  }

  private update(): void {
    const connection = this.connections.selected();
    const active = this.runner.active;
    if (!this.settings.value.showStatusBar || (!this.specFile.uri && !active)) {
      this.item.hide();
      return;
    }
    const name = connection?.name ?? 'No connection';
    if (active) {
      const step = active.step && active.step in STEP_TITLES ? active.step : undefined;
      const view = step && this.model.steps.get(step as ChecklistStep);
      const backfill = view?.backfilling ? view.progress.get(view.backfilling) : undefined;
      this.item.text = `$(sync~spin) ${step ? STEP_TITLES[step] : active.title}${backfill ? ` ${percent(backfill)}%` : ''} · ${name}`;
      this.item.tooltip = `Tenant Migration: ${active.title} on ${connection?.description ?? name}. Click to show the log.`;
      this.item.command = 'tenantMigration.showLog';
    } else {
      this.item.text = `${connection?.production ? '$(warning)' : '$(database)'} ${name}`;
      this.item.tooltip = connection
        ? `Tenant Migration: ${connection.description}${connection.production ? ' (production)' : ''}. Click to select another connection.`
        : 'Tenant Migration: no connection selected. Click to select or add one.';
      this.item.command = 'tenantMigration.selectConnection';
    }
    this.item.backgroundColor = connection?.production
      ? new vscode.ThemeColor('statusBarItem.warningBackground')
      : undefined;
    this.item.accessibilityInformation = { label: typeof this.item.tooltip === 'string' ? this.item.tooltip : name };
    this.item.show();
  }
}
