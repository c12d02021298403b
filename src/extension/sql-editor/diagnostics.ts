// The Problems panel for SQL files: the migration lint and syntax errors as you type (debounced; table sizes from the
// connected database when there is one), and every failed check with the value it actually gave.
import * as vscode from 'vscode';
import type { LintDiagnostic, LintFix } from '../../engine/sql-editor/lint';
import type { LintCatalog } from '../../engine/sql-editor/lint/catalog';
import type { LintOptions } from '../../engine/sql-editor/lint/types';
import { Disposable } from '../lifecycle';
import type { ExtensionLog } from '../log';
import type { SettingsAdapter } from '../settings';
import type { EditorSession } from './editor-session';
import type { SqlModels } from './models';
import type { ResultStore } from './results';

const DEBOUNCE_MS = 250;
const definedOnly = (o: LintOptions | undefined) =>
  Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined));
const SEVERITY = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
} as const;

export interface Fixable {
  readonly range: vscode.Range;
  readonly code: string;
  readonly fix: LintFix;
}

export class SqlDiagnostics extends Disposable {
  private readonly collection = this.register(vscode.languages.createDiagnosticCollection('tenant-migration-sql'));
  private readonly lint = new Map<string, vscode.Diagnostic[]>();
  private readonly fixes = new Map<string, Fixable[]>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private catalog?: { connection: string | undefined; facts: Promise<LintCatalog | undefined> };

  constructor(
    private readonly models: SqlModels,
    private readonly results: ResultStore,
    private readonly session: EditorSession,
    private readonly settings: SettingsAdapter,
    private readonly connectionName: () => string | undefined,
    private readonly log: ExtensionLog,
    /** The spec's tenant tables, cross-tenant roles and `lint` settings (undefined without a readable spec). */
    private readonly specOptions: () => LintOptions | undefined,
  ) {
    super();
    this.register(vscode.workspace.onDidChangeTextDocument((e) => this.schedule(e.document)));
    this.register(vscode.workspace.onDidOpenTextDocument((d) => this.schedule(d, 0)));
    this.register(
      vscode.workspace.onDidCloseTextDocument((d) => {
        this.collection.delete(d.uri);
        this.lint.delete(d.uri.toString());
        this.fixes.delete(d.uri.toString());
      }),
    );
    this.register(
      models.onDidChange((uri) => {
        if (!uri) this.all();
        else this.scheduleUri(uri);
      }),
    );
    this.register(results.onDidChange((uri) => this.publish(uri)));
    this.register(
      settings.onDidChange(() => {
        this.catalog = undefined;
        this.all();
      }),
    );
    this.register({ dispose: () => this.timers.forEach((t) => clearTimeout(t)) });
    this.all();
  }

  /** The quick fixes the engine gave for a file's diagnostics. */
  fixesFor(uri: vscode.Uri): readonly Fixable[] {
    return this.fixes.get(uri.toString()) ?? [];
  }

  /** Lints every open file again (the spec changed). */
  relint(): void {
    this.all();
  }

  /** Re-reads the table sizes (the connection changed) and lints again. */
  connectionChanged(): void {
    this.catalog = undefined;
    this.all();
  }

  private all(): void {
    for (const d of vscode.workspace.textDocuments) this.schedule(d, 0);
  }

  private scheduleUri(uri: vscode.Uri): void {
    const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    if (document) this.schedule(document, 0);
  }

  private schedule(document: vscode.TextDocument, delay = DEBOUNCE_MS): void {
    if (!this.models.filter.matches(document)) {
      if (this.lint.delete(document.uri.toString())) this.collection.delete(document.uri);
      return;
    }
    const key = document.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        void this.update(document);
      }, delay),
    );
  }

  private async update(document: vscode.TextDocument): Promise<void> {
    if (document.isClosed) return;
    const catalog = await this.facts();
    const model = this.models.model(document);
    // A file still being split is linted when it is (the models say so); the parsing goes in slices between other work.
    if (!model || !model.complete) return;
    const version = document.version;
    while (!model.lintStep()) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (document.isClosed || document.version !== version) return;
    }
    // The spec is the team's: where it says something about the lint, it wins over the editor's settings.
    const options = {
      ...this.settings.value.lint,
      ...definedOnly(this.specOptions()),
      rules: { ...this.settings.value.lint.rules, ...this.specOptions()?.rules },
    };
    const found = model.diagnostics({
      tableRows: catalog?.tableRows,
      tables: catalog?.tables,
      largeTableRows: this.settings.value.sqlEditor.largeTableRows,
      ...options,
    });
    const diagnostics: vscode.Diagnostic[] = [];
    const fixes: Fixable[] = [];
    for (const d of found) {
      const range = this.range(document, d);
      const diagnostic = new vscode.Diagnostic(range, d.message, SEVERITY[d.severity]);
      diagnostic.source = 'Tenant Migration';
      diagnostic.code = d.code;
      diagnostics.push(diagnostic);
      if (d.fix) fixes.push({ range, code: d.code, fix: d.fix });
    }
    this.lint.set(document.uri.toString(), diagnostics);
    this.fixes.set(document.uri.toString(), fixes);
    this.publish(document.uri);
  }

  private range(document: vscode.TextDocument, d: LintDiagnostic): vscode.Range {
    // A statement-wide finding is marked on its first line only, so a long statement is not all underlined.
    const start = document.positionAt(d.start);
    const end = document.positionAt(d.end);
    return d.code === 'syntax' || start.line === end.line
      ? new vscode.Range(start, end)
      : new vscode.Range(start, document.lineAt(start.line).range.end);
  }

  private publish(uri: vscode.Uri): void {
    const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    const model = document && this.models.model(document);
    if (!document || !model) return;
    const checks: vscode.Diagnostic[] = [];
    for (const s of model.statements) {
      const outcome = this.results.get(uri, s.item.text);
      if (!outcome || outcome.state === 'running' || !outcome.check || outcome.check.ok) continue;
      const start = document.positionAt(s.item.start);
      const diagnostic = new vscode.Diagnostic(
        new vscode.Range(start, document.lineAt(start.line).range.end),
        `Check failed: expected ${outcome.check.expected}, got ${outcome.check.actual}`,
        vscode.DiagnosticSeverity.Error,
      );
      diagnostic.source = 'Tenant Migration';
      diagnostic.code = 'check';
      checks.push(diagnostic);
    }
    this.collection.set(uri, [...(this.lint.get(uri.toString()) ?? []), ...checks]);
  }

  /** What the lint reads from the database, once per connection; nothing without a trusted workspace and a connection. */
  private facts(): Promise<LintCatalog | undefined> {
    const connection = this.connectionName();
    if (!this.catalog || this.catalog.connection !== connection) {
      this.catalog = {
        connection,
        facts: this.session.lintCatalog().catch((error: unknown) => {
          this.log.debug(
            `SQL editor: no table facts for the lint (${(error as Error).message}); every table counts as large`,
          );
          return undefined;
        }),
      };
    }
    return this.catalog.facts;
  }
}
