// What the last run of each statement gave, per file, keyed by the statement's text (an edited statement loses its
// result; moving it keeps it). Read by the decorations, the hover, the CodeLens, the diagnostics and the results view.
import * as vscode from 'vscode';
import type { StatementResult } from '../../engine/sql-editor/run-statement';
import { Disposable } from '../lifecycle';

export type RunKind = 'read' | 'write' | 'tenant' | 'explain' | 'describe';

export interface CheckResult {
  readonly ok: boolean;
  readonly expected: string;
  readonly actual: string;
}

export type Outcome =
  | { readonly state: 'running'; readonly kind: RunKind; readonly started: number }
  | {
      readonly state: 'done';
      readonly kind: RunKind;
      readonly summary: string;
      readonly result?: StatementResult;
      readonly text?: string;
      readonly check?: CheckResult;
      readonly org?: string;
      readonly at: Date;
    }
  | {
      readonly state: 'failed';
      readonly kind: RunKind;
      readonly message: string;
      readonly check?: CheckResult;
      readonly cancelled?: boolean;
      readonly at: Date;
    };

export class ResultStore extends Disposable {
  private readonly byFile = new Map<string, Map<string, Outcome>>();
  private readonly changed = this.register(new vscode.EventEmitter<vscode.Uri>());
  readonly onDidChange = this.changed.event;

  constructor() {
    super();
    this.register(vscode.workspace.onDidCloseTextDocument((d) => this.byFile.delete(d.uri.toString())));
  }

  get(uri: vscode.Uri, statement: string): Outcome | undefined {
    return this.byFile.get(uri.toString())?.get(statement);
  }

  set(uri: vscode.Uri, statement: string, outcome: Outcome): void {
    const key = uri.toString();
    let file = this.byFile.get(key);
    if (!file) this.byFile.set(key, (file = new Map()));
    file.set(statement, outcome);
    this.changed.fire(uri);
  }

  clear(uri: vscode.Uri): void {
    if (this.byFile.delete(uri.toString())) this.changed.fire(uri);
  }
}
