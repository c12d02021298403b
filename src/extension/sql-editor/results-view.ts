// The full result of a statement, on demand: a read-only document beside the SQL, aligned as psql prints it.
import path from 'node:path';
import * as vscode from 'vscode';
import type { EngineLoader } from '../engine';
import { Disposable } from '../lifecycle';
import type { Outcome } from './results';

export const RESULT_SCHEME = 'tenant-migration-result';

export class ResultsView extends Disposable implements vscode.TextDocumentContentProvider {
  private readonly contents = new Map<string, string>();
  private counter = 0;

  constructor(private readonly engines: EngineLoader) {
    super();
    this.register(vscode.workspace.registerTextDocumentContentProvider(RESULT_SCHEME, this));
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.contents.get(uri.toString()) ?? 'This result is no longer available: run the statement again.';
  }

  async show(source: vscode.Uri, line: number, statement: string, outcome: Outcome): Promise<vscode.TextDocument> {
    const engine = this.engines.get();
    const lines = [
      `-- ${vscode.workspace.asRelativePath(source)}, line ${line}`,
      ...statement.split('\n').map((l) => `-- ${l}`),
      '',
    ];
    if (outcome.state === 'running') lines.push('(still running)');
    else if (outcome.state === 'failed') lines.push(`ERROR: ${outcome.message}`);
    else {
      lines.push(
        `-- ${outcome.kind === 'read' ? 'read-only, rolled back' : outcome.kind}${outcome.org ? ` as org ${outcome.org}` : ''}, ${outcome.at.toLocaleString()}${outcome.result ? `, ${outcome.result.durationMs} ms` : ''}`,
      );
      if (outcome.check)
        lines.push(
          `-- check ${outcome.check.ok ? 'passed' : 'FAILED'}: expected ${outcome.check.expected}, got ${outcome.check.actual}`,
        );
      lines.push('');
      if (outcome.text) lines.push(outcome.text);
      else if (outcome.result?.fields.length) {
        lines.push(engine.formatAligned(outcome.result, 200));
        if (outcome.result.truncated) lines.push(`(only the first ${outcome.result.rows.length} rows are kept)`);
      } else if (outcome.result)
        lines.push(`${outcome.result.command}${outcome.result.rowCount !== null ? ` ${outcome.result.rowCount}` : ''}`);
    }
    const uri = vscode.Uri.from({
      scheme: RESULT_SCHEME,
      path: `/${path.basename(source.fsPath)} line ${line}.txt`,
      query: String(++this.counter),
    });
    this.contents.set(uri.toString(), `${lines.join('\n')}\n`);
    const document = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(document, {
      viewColumn: vscode.ViewColumn.Beside,
      preview: true,
      preserveFocus: true,
    });
    return document;
  }
}
