// What activate() returns: a small, read-only view for tests and for other extensions. No secrets.
import type { ChecklistStep } from '../engine/events';
import type { Container } from './container';
import type { Node } from './checklist/nodes';
import * as vscode from 'vscode';
import { answerModalsWith, type ModalAnswerer } from './modal';
import type { PlanPreviewPanel } from './plan-preview/panel';

export interface TenantMigrationApi {
  /** How long activate() took, in milliseconds. */
  readonly activationMs: number;
  /** The Checklist view's data provider, exactly as VS Code renders it. */
  readonly checklist: vscode.TreeDataProvider<Node>;
  /** Resolves when the checklist shows the database's record. */
  refreshChecklist(): Promise<void>;
  /** The checklist's state of a step (status, duration, rows, summary, what next). */
  stepState(step: ChecklistStep): {
    status: string;
    durationMs?: number;
    rows?: number;
    summary?: string;
    next?: string;
    source: string;
  };
  /** Fires whenever the checklist changes. */
  readonly onDidChangeChecklist: vscode.Event<ChecklistStep | undefined>;
  /** The folder the log file of the Tenant Migration output channel is in. */
  readonly logUri: vscode.Uri;
  /** This extension's global storage (the user data folder is two levels up). */
  readonly globalStorageUri: vscode.Uri;
  /** The open plan preview, if any (its `posted` messages are what the webview received). */
  planPreview(): PlanPreviewPanel | undefined;
  /** The message above the checklist's steps (the running operation's elapsed time and time left, locks, rollbacks). */
  checklistMessage(): string | undefined;
  /**
   * Tests: answers the extension's modal questions before a write (message, detail, buttons → the button, or
   * undefined for dismissed) instead of VS Code; undefined gives them back. Refused outside ExtensionMode.Test.
   */
  answerModals(answer: ModalAnswerer | undefined): void;
  /** The running operation, if any. */
  activeRun(): { title: string; step?: string } | undefined;
  /** The SQL editor's results shown after the statements of a file (line, text, tone), as decorated. */
  sqlInlineResults(uri: vscode.Uri): readonly { line: number; text: string; tone: string }[];
}

export function createApi(c: Container, activationMs: number): TenantMigrationApi {
  return {
    activationMs,
    checklist: c.tree,
    refreshChecklist: () => c.refresher.refresh(),
    stepState: (step) => {
      const v = c.model.step(step);
      return {
        status: v.status,
        durationMs: v.durationMs,
        rows: v.rows,
        summary: v.summary,
        next: v.next,
        source: v.source,
      };
    },
    onDidChangeChecklist: c.model.onDidChange,
    logUri: c.context.logUri,
    globalStorageUri: c.context.globalStorageUri,
    planPreview: () => c.engines.peek()?.PlanPreviewPanel.active,
    checklistMessage: () => c.tree.view.message,
    answerModals: (answer) => {
      if (c.context.extensionMode !== vscode.ExtensionMode.Test)
        throw new Error("answerModals is for the extension's tests only");
      answerModalsWith(answer);
    },
    activeRun: () => (c.runner.active ? { title: c.runner.active.title, step: c.runner.active.step } : undefined),
    sqlInlineResults: (uri) => c.sqlEditor.inline.shownFor(uri),
  };
}
