// CodeLens above each statement (Run, Run as tenant…, Explain, and Run (write) for statements that change something;
// Describe for psql's \d and \d+), "Running… Cancel" while one runs, and at the top the checks' tally with
// "Run All Checks". The lenses come from the engine's SqlFileModel; this only maps them to VS Code. On the migration
// script itself only Explain, with "Run migration" at the top: its statements run through the runner (the lock, the
// audit log, the resume state), never one by one.
import * as vscode from 'vscode';
import type { LensKind } from '../../engine/sql-editor/file-model';
import { Disposable } from '../lifecycle';
import type { SqlModels } from './models';
import type { ResultStore } from './results';
import { checkTally } from './tally';

const LENS: Record<Exclude<LensKind, 'meta'>, { title: string; command: string; tooltip: string }> = {
  run: {
    title: '$(play) Run',
    command: 'tenantMigration.runStatement',
    tooltip: 'Run read-only, in a transaction that is rolled back',
  },
  runAsTenant: {
    title: '$(person) Run as tenant…',
    command: 'tenantMigration.runStatementAsTenant',
    tooltip: 'Pick an org: run with its tenant context and role, rolled back',
  },
  explain: {
    title: '$(graph) Explain',
    command: 'tenantMigration.explainStatement',
    tooltip: 'EXPLAIN the statement (read-only)',
  },
  runWrite: {
    title: '$(edit) Run (write)',
    command: 'tenantMigration.runStatementWrite',
    tooltip:
      'Run and commit, after a confirmation naming the database (a production connection asks you to type its name)',
  },
  describe: {
    title: '$(info) Describe',
    command: 'tenantMigration.runStatement',
    tooltip: 'psql \\d answered from the catalog',
  },
};

export class SqlCodeLens extends Disposable implements vscode.CodeLensProvider {
  private readonly changed = this.register(new vscode.EventEmitter<void>());
  readonly onDidChangeCodeLenses = this.changed.event;

  constructor(
    private readonly models: SqlModels,
    private readonly results: ResultStore,
    private readonly isMigrationScript: (document: vscode.TextDocument) => boolean,
  ) {
    super();
    this.register(models.onDidChange(() => this.changed.fire()));
    this.register(results.onDidChange(() => this.changed.fire()));
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const model = this.models.model(document);
    if (!model) return [];
    const lenses: vscode.CodeLens[] = [];
    const top = new vscode.Range(0, 0, 0, 0);
    const script = this.isMigrationScript(document);
    if (script) {
      lenses.push(
        new vscode.CodeLens(top, {
          title: '$(play) Run migration',
          command: 'tenantMigration.run',
          tooltip:
            "Run the guide through the runner, as the checklist's Run does: the run lock, the audit log, resumable, with its confirmations",
        }),
      );
    }
    const tally = checkTally(model.statements, (text) => this.results.get(document.uri, text));
    if (model.complete && tally.total > 0) {
      lenses.push(
        new vscode.CodeLens(top, {
          title: tally.title,
          command: 'tenantMigration.runAllChecks',
          arguments: [document.uri],
          tooltip: 'Run every statement with an "-- expect:" comment (read-only, rolled back)',
        }),
      );
      lenses.push(
        new vscode.CodeLens(top, {
          title: '$(run-all) Run All Checks',
          command: 'tenantMigration.runAllChecks',
          arguments: [document.uri],
          tooltip: 'Run every check in this file',
        }),
      );
    }
    let running = -1;
    for (const lens of model.lenses()) {
      const statement = model.statements[lens.index]!;
      const at = document.positionAt(lens.offset);
      const range = new vscode.Range(at, at);
      const outcome = this.results.get(document.uri, statement.item.text);
      if (outcome?.state === 'running') {
        if (running !== lens.index) {
          running = lens.index;
          lenses.push(
            new vscode.CodeLens(range, { title: '$(sync~spin) Running…', command: '' }),
            new vscode.CodeLens(range, {
              title: '$(debug-stop) Cancel',
              command: 'tenantMigration.cancelStatement',
              tooltip: 'Stop the statement on the server',
            }),
          );
        }
        continue;
      }
      if (lens.kind === 'meta') {
        const item = statement.item;
        lenses.push(
          new vscode.CodeLens(range, {
            title: `psql \\${item.kind === 'meta' ? item.command : ''}: run by psql, not here`,
            command: '',
          }),
        );
        continue;
      }
      if (script && lens.kind !== 'explain' && lens.kind !== 'describe') continue;
      lenses.push(new StatementLens(range, document.uri, lens.kind, lens.offset));
    }
    return lenses;
  }

  /** VS Code asks only for the lenses on screen: a 5,000-statement file sends 17,000 ranges, not 17,000 commands. */
  resolveCodeLens(lens: vscode.CodeLens): vscode.CodeLens {
    if (lens instanceof StatementLens) {
      const spec = LENS[lens.kind];
      lens.command = {
        title: spec.title,
        command: spec.command,
        tooltip: spec.tooltip,
        arguments: [lens.uri, lens.offset],
      };
    }
    return lens;
  }
}

class StatementLens extends vscode.CodeLens {
  constructor(
    range: vscode.Range,
    readonly uri: vscode.Uri,
    readonly kind: Exclude<LensKind, 'meta'>,
    readonly offset: number,
  ) {
    super(range);
  }
}
