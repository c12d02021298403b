// Quick fixes for the lint where the fix is mechanical (CONCURRENTLY, NOT VALID, IF NOT EXISTS, the timeouts, FORCE, security_invoker…).
import * as vscode from 'vscode';
import type { SqlDiagnostics } from './diagnostics';

export class SqlQuickFixes implements vscode.CodeActionProvider {
  static readonly metadata: vscode.CodeActionProviderMetadata = {
    providedCodeActionKinds: [vscode.CodeActionKind.QuickFix],
  };

  constructor(private readonly diagnostics: SqlDiagnostics) {}

  provideCodeActions(
    document: vscode.TextDocument,
    range: vscode.Range,
    context: vscode.CodeActionContext,
  ): vscode.CodeAction[] {
    const actions: vscode.CodeAction[] = [];
    for (const fixable of this.diagnostics.fixesFor(document.uri)) {
      if (!fixable.range.intersection(range)) continue;
      const diagnostic = context.diagnostics.find((d) => d.code === fixable.code && d.range.isEqual(fixable.range));
      const action = new vscode.CodeAction(fixable.fix.title, vscode.CodeActionKind.QuickFix);
      action.edit = new vscode.WorkspaceEdit();
      action.edit.replace(
        document.uri,
        new vscode.Range(document.positionAt(fixable.fix.start), document.positionAt(fixable.fix.end)),
        fixable.fix.text,
      );
      if (diagnostic) action.diagnostics = [diagnostic];
      action.isPreferred = true;
      actions.push(action);
    }
    return actions;
  }
}
