// Read-only documents the extension opens to show a long text in full (a failed step's "what to do next"): no
// untitled file to save or discard, and the text cannot be edited into something the engine did not say.
import * as vscode from 'vscode';

export const DETAILS_SCHEME = 'tenant-migration-details';

export class DetailsDocuments implements vscode.TextDocumentContentProvider {
  private readonly texts = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  /** The URI of a read-only document holding `text` (named `name`; the same name shows the latest text). */
  show(name: string, text: string): vscode.Uri {
    const uri = vscode.Uri.from({ scheme: DETAILS_SCHEME, path: `/${name}` });
    this.texts.set(uri.toString(), text);
    this.changed.fire(uri);
    return uri;
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? '';
  }

  register(): vscode.Disposable {
    return vscode.Disposable.from(
      vscode.workspace.registerTextDocumentContentProvider(DETAILS_SCHEME, this),
      this.changed,
    );
  }
}
