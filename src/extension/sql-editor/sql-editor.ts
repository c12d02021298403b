// The SQL editor feature (issue 4), built by the composition root: CodeLens, inline results, hover, results view,
// checks, lint diagnostics with quick fixes, and the statement runner on its own session. Registering the providers
// is cheap; the engine and the parser's WASM load only when a SQL file the editor covers is open.
import * as vscode from 'vscode';
import type { ConnectionService } from '../connections/connections';
import type { ProductionGuard } from '../connections/safety';
import type { ContextKeys } from '../context-keys';
import type { EngineLoader } from '../engine';
import { Disposable } from '../lifecycle';
import type { ExtensionLog } from '../log';
import type { MigrationOpener } from '../run/open-migration';
import type { SettingsAdapter } from '../settings';
import type { SpecFile } from '../spec-file';
import { SqlQuickFixes } from './code-actions';
import { SqlCodeLens } from './codelens';
import { InlineResults } from './decorations';
import { SqlDiagnostics } from './diagnostics';
import { EditorSession } from './editor-session';
import { SqlFileFilter } from './file-filter';
import { SqlHover } from './hover';
import { SqlModels } from './models';
import { ResultStore } from './results';
import { ResultsView } from './results-view';
import { StatementRunner } from './statement-runner';
import type { LintOptions } from '../../engine/sql-editor/lint/types';

export interface SqlEditorDeps {
  readonly engines: EngineLoader;
  readonly settings: SettingsAdapter;
  readonly specFile: SpecFile;
  readonly connections: ConnectionService;
  readonly opener: MigrationOpener;
  readonly guard: ProductionGuard;
  readonly contextKeys: ContextKeys;
  readonly log: ExtensionLog;
}

const SELECTOR: vscode.DocumentSelector = [
  { scheme: 'file', language: 'sql' },
  { scheme: 'file', pattern: '**/*.sql' },
];

export class SqlEditor extends Disposable {
  readonly models: SqlModels;
  readonly results: ResultStore;
  readonly session: EditorSession;
  readonly runner: StatementRunner;
  readonly inline: InlineResults;
  readonly diagnostics: SqlDiagnostics;
  readonly view: ResultsView;

  private specLint?: { readonly uri: string; readonly options: LintOptions | undefined };

  constructor(private readonly deps: SqlEditorDeps) {
    super();
    const { engines, settings, specFile, connections, opener, guard, contextKeys, log } = deps;
    const filter = new SqlFileFilter(settings, specFile);
    this.models = this.register(new SqlModels(engines, filter, log));
    this.results = this.register(new ResultStore());
    this.session = this.register(new EditorSession(engines, connections, opener, log));
    this.runner = new StatementRunner(engines, this.session, this.results, guard, settings, specFile, contextKeys, log);
    this.view = this.register(new ResultsView(engines));
    this.inline = this.register(new InlineResults(this.models, this.results));
    this.diagnostics = this.register(
      new SqlDiagnostics(
        this.models,
        this.results,
        this.session,
        settings,
        () => connections.selected()?.name,
        log,
        () => this.specLintOptions(),
      ),
    );
    this.register(
      specFile.onDidChange(() => {
        this.specLint = undefined;
        this.diagnostics.relint();
      }),
    );
    const lenses = this.register(new SqlCodeLens(this.models, this.results, (d) => filter.isMigrationScript(d)));
    this.register(vscode.languages.registerCodeLensProvider(SELECTOR, lenses));
    this.register(vscode.languages.registerHoverProvider(SELECTOR, new SqlHover(this.models, this.results, engines)));
    this.register(
      vscode.languages.registerCodeActionsProvider(
        SELECTOR,
        new SqlQuickFixes(this.diagnostics),
        SqlQuickFixes.metadata,
      ),
    );
    this.register(connections.onDidChange(() => this.diagnostics.connectionChanged()));
    this.register(vscode.window.onDidChangeActiveTextEditor((e) => this.onActiveEditor(e)));
    this.register(
      vscode.workspace.onDidOpenTextDocument((d) => {
        if (filter.matches(d)) void this.models.load();
      }),
    );
    this.register(
      settings.onDidChange(() => {
        this.models.refresh();
        this.onActiveEditor(vscode.window.activeTextEditor);
      }),
    );
    this.onActiveEditor(vscode.window.activeTextEditor);
    if (vscode.workspace.textDocuments.some((d) => filter.matches(d))) void this.models.load();
  }

  private onActiveEditor(editor: vscode.TextEditor | undefined): void {
    const matches = !!editor && this.models.filter.matches(editor.document);
    this.deps.contextKeys.set('sqlFile', matches);
    if (matches) void this.models.load();
  }

  /** The lint's options from tenant-migration.json (read once per change of the file; a spec that does not load gives none). */
  private specLintOptions(): LintOptions | undefined {
    const uri = this.deps.specFile.uri;
    if (!uri) return undefined;
    if (this.specLint?.uri !== uri.toString()) {
      let options: LintOptions | undefined;
      try {
        const engine = this.deps.engines.get();
        options = engine.lintOptionsFromSpec(engine.loadSpec(uri.fsPath));
      } catch (error) {
        this.deps.log.debug(
          `lint: the spec's options are not used (${error instanceof Error ? error.message : String(error)})`,
        );
      }
      this.specLint = { uri: uri.toString(), options };
    }
    return this.specLint.options;
  }
}
