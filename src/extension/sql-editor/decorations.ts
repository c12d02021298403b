// The result after each statement that has run, at the end of its last line: `→ 0 ✓`, `→ 42 rows`, `✗ expected 0`,
// an error in short. Theme colors only (the test explorer's passed/failed colors, CodeLens grey for plain results).
import * as vscode from 'vscode';
import { Disposable } from '../lifecycle';
import type { SqlModels } from './models';
import type { Outcome, ResultStore } from './results';

export type DecorationTone = 'passed' | 'failed' | 'info' | 'running';

export interface InlineResult {
  /** 0-based line the text follows. */
  readonly line: number;
  readonly text: string;
  readonly tone: DecorationTone;
}

const COLORS: Record<DecorationTone, string> = {
  passed: 'testing.iconPassed',
  failed: 'testing.iconFailed',
  info: 'editorCodeLens.foreground',
  running: 'editorCodeLens.foreground',
};

const short = (text: string, max = 90) => {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
};

export function inlineText(outcome: Outcome): { text: string; tone: DecorationTone } {
  if (outcome.state === 'running') return { text: 'running…', tone: 'running' };
  const tenant = outcome.state === 'done' && outcome.kind === 'tenant' && outcome.org ? ` · as org ${outcome.org}` : '';
  if (outcome.state === 'failed') {
    if (outcome.cancelled) return { text: short(outcome.message), tone: 'info' };
    return {
      text: `✗ ${outcome.check ? `expected ${outcome.check.expected}: ` : ''}${short(outcome.message)}`,
      tone: 'failed',
    };
  }
  if (outcome.check) {
    return outcome.check.ok
      ? { text: `${outcome.summary}  ✓${tenant}`, tone: 'passed' }
      : { text: `${outcome.summary}  ✗ expected ${outcome.check.expected}${tenant}`, tone: 'failed' };
  }
  return { text: `${short(outcome.summary)}${tenant}`, tone: 'info' };
}

export class InlineResults extends Disposable {
  private readonly types = new Map<DecorationTone, vscode.TextEditorDecorationType>();
  private readonly shown = new Map<string, InlineResult[]>();

  constructor(
    private readonly models: SqlModels,
    private readonly results: ResultStore,
  ) {
    super();
    for (const tone of Object.keys(COLORS) as DecorationTone[]) {
      this.types.set(
        tone,
        this.register(
          vscode.window.createTextEditorDecorationType({
            after: {
              color: new vscode.ThemeColor(COLORS[tone]),
              margin: '0 0 0 2em',
              fontStyle: tone === 'running' ? 'italic' : 'normal',
            },
            rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
          }),
        ),
      );
    }
    const refresh = (uri?: vscode.Uri) => {
      for (const editor of vscode.window.visibleTextEditors)
        if (!uri || editor.document.uri.toString() === uri.toString()) this.render(editor);
    };
    this.register(results.onDidChange(refresh));
    this.register(models.onDidChange(refresh));
    this.register(vscode.window.onDidChangeVisibleTextEditors(() => refresh()));
    // VS Code moves the decorations with an edit; re-rendering (and so re-splitting a big file) can wait for a pause.
    let typing: ReturnType<typeof setTimeout> | undefined;
    this.register(
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (!this.shown.get(e.document.uri.toString())?.length) return;
        clearTimeout(typing);
        typing = setTimeout(() => refresh(e.document.uri), 150);
      }),
    );
    this.register({ dispose: () => clearTimeout(typing) });
  }

  /** What is shown after the statements of a file (for tests and the API). */
  shownFor(uri: vscode.Uri): readonly InlineResult[] {
    return this.shown.get(uri.toString()) ?? [];
  }

  private render(editor: vscode.TextEditor): void {
    const model = this.models.model(editor.document);
    if (!model) return;
    const byTone = new Map<DecorationTone, vscode.DecorationOptions[]>();
    const shown: InlineResult[] = [];
    for (const s of model.statements) {
      const outcome = this.results.get(editor.document.uri, s.item.text);
      if (!outcome) continue;
      const { text, tone } = inlineText(outcome);
      const end = editor.document.positionAt(s.item.end);
      const line = editor.document.lineAt(end.line);
      const range = new vscode.Range(line.range.end, line.range.end);
      const list = byTone.get(tone) ?? [];
      list.push({ range, renderOptions: { after: { contentText: text } } });
      byTone.set(tone, list);
      shown.push({ line: end.line, text, tone });
    }
    for (const [tone, type] of this.types) editor.setDecorations(type, byTone.get(tone) ?? []);
    this.shown.set(editor.document.uri.toString(), shown);
  }
}
