// One SqlFileModel per open SQL file that gets the SQL editor. The engine and the parser's WASM load only when the
// first such file is open; until then the providers answer nothing and fire onDidChange once the parser is ready.
// A large file is split in chunks between other work (the extension host never waits for all of it at once): the
// providers see the first statements at once and onDidChange(uri) fires when the whole file is split.
import * as vscode from 'vscode';
import type { SqlFileModel, SqlParser } from '../../engine/sql-editor/file-model';
import type { EngineLoader } from '../engine';
import { Disposable } from '../lifecycle';
import type { ExtensionLog } from '../log';
import type { SqlFileFilter } from './file-filter';

interface Entry {
  readonly model: SqlFileModel;
  version: number;
  splitting: boolean;
  started: number;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export class SqlModels extends Disposable {
  private readonly entries = new Map<string, Entry>();
  private parser?: SqlParser;
  private loading?: Promise<void>;
  private readonly changed = this.register(new vscode.EventEmitter<vscode.Uri | undefined>());
  /** A model was created or updated (undefined: all of them, e.g. the parser just loaded). */
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly engines: EngineLoader,
    readonly filter: SqlFileFilter,
    private readonly log: ExtensionLog,
  ) {
    super();
    this.register(vscode.workspace.onDidCloseTextDocument((d) => this.entries.delete(d.uri.toString())));
  }

  /** The document's model, brought up to date with its text; undefined until the parser has loaded. */
  model(document: vscode.TextDocument): SqlFileModel | undefined {
    if (!this.filter.matches(document)) return undefined;
    const engine = this.engines.peek();
    if (!engine || !this.parser) {
      this.load();
      return undefined;
    }
    const key = document.uri.toString();
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { model: new engine.SqlFileModel(this.parser), version: -1, splitting: false, started: 0 };
      this.entries.set(key, entry);
    }
    if (entry.version !== document.version) {
      const first = entry.version === -1;
      entry.started = performance.now();
      entry.model.begin(document.getText());
      entry.version = document.version;
      if (first)
        this.log.debug(
          `SQL editor: ${vscode.workspace.asRelativePath(document.uri)} opened, ${entry.model.statements.length} statements split in ${(performance.now() - entry.started).toFixed(1)} ms${entry.model.complete ? '' : ' (the rest follows)'}`,
        );
      if (!entry.model.complete)
        this.splitRest(entry, document).catch((error: unknown) =>
          this.log.error(`SQL editor: splitting ${document.uri.fsPath} failed: ${(error as Error).message}`),
        );
    }
    return entry.model;
  }

  /** The document's model with every statement split (for commands that need all of them, e.g. Run All Checks). */
  whole(document: vscode.TextDocument): SqlFileModel | undefined {
    const model = this.model(document);
    while (model && !model.resume()) {
      /* the next chunk */
    }
    return model;
  }

  private async splitRest(entry: Entry, document: vscode.TextDocument): Promise<void> {
    if (entry.splitting) return;
    entry.splitting = true;
    try {
      let split = false;
      while (!split && !document.isClosed) {
        await nextTurn(); // one chunk per turn: the extension host does other work in between
        split = entry.model.resume();
      }
    } finally {
      entry.splitting = false;
    }
    if (document.isClosed) return;
    const ms = performance.now() - entry.started;
    if (ms > 50)
      this.log.debug(
        `SQL editor: ${vscode.workspace.asRelativePath(document.uri)} split into ${entry.model.statements.length} statements in ${ms.toFixed(1)} ms, in chunks`,
      );
    this.changed.fire(document.uri);
  }

  /** Loads the engine and the parser once (in the background); every provider refreshes when it is ready. */
  load(): Promise<void> {
    this.loading ??= (async () => {
      const started = performance.now();
      try {
        const engine = this.engines.get();
        this.parser = await engine.loadParser();
        this.log.info(`SQL editor: the PostgreSQL parser loaded in ${Math.round(performance.now() - started)} ms`);
        this.changed.fire(undefined);
      } catch (error) {
        this.loading = undefined;
        this.log.error(`SQL editor: the PostgreSQL parser could not be loaded: ${(error as Error).message}`);
      }
    })();
    return this.loading;
  }

  get loaded(): boolean {
    return !!this.parser;
  }

  /** Every provider looks again (the settings changed which files get the SQL editor). */
  refresh(): void {
    this.changed.fire(undefined);
  }
}
