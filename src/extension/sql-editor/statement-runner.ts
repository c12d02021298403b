// Runs one statement of a SQL file: read-only and rolled back unless "Run (write)" (confirmed by typing the database
// name on a production connection), as a tenant, or EXPLAIN; psql's \d and \d+ answered from the catalog. Every run
// is under the statement timeout, goes to the log, and its outcome (with the check's verdict) to the result store.
import * as vscode from 'vscode';
import type { Session } from '../../engine/db/session';
import type { DocumentStatement } from '../../engine/sql-editor/document';
import type { RunMode } from '../../engine/sql-editor/run-statement';
import type { ProductionGuard } from '../connections/safety';
import type { ContextKeys } from '../context-keys';
import type { EngineLoader } from '../engine';
import { errorText } from '../errors';
import type { ExtensionLog } from '../log';
import type { SpecFile } from '../spec-file';
import type { SettingsAdapter } from '../settings';
import type { EditorSession } from './editor-session';
import type { CheckResult, Outcome, ResultStore, RunKind } from './results';

export interface RunRequest {
  readonly uri: vscode.Uri;
  readonly statement: DocumentStatement;
  readonly kind: Exclude<RunKind, 'describe'> | 'describe';
  /** For 'tenant': the org id. */
  readonly org?: string;
  /** May ask for a password or a confirmation (false for "Run All Checks" after the first). */
  readonly interactive?: boolean;
}

const KIND_TEXT: Record<RunKind, string> = {
  read: 'read-only, rolled back',
  write: 'write, committed',
  tenant: 'as tenant, rolled back',
  explain: 'EXPLAIN',
  describe: 'psql \\d from the catalog',
};

export class StatementRunner {
  private active = 0;

  constructor(
    private readonly engines: EngineLoader,
    private readonly session: EditorSession,
    private readonly results: ResultStore,
    private readonly guard: ProductionGuard,
    private readonly settings: SettingsAdapter,
    private readonly specFile: SpecFile,
    private readonly contextKeys: ContextKeys,
    private readonly log: ExtensionLog,
  ) {}

  async run(request: RunRequest): Promise<Outcome> {
    const { uri, statement, kind } = request;
    const item = statement.item;
    const connection = this.session.connection('Run Statement');
    if (kind === 'write') {
      const database =
        connection.kind === 'profile' ? connection.profile.database : (connection.description.split('/').pop() ?? '');
      const confirmed = await this.guard.confirm({
        connection,
        action: `Run (write) of the statement at line ${item.line}`,
        database,
        openManualItems: [],
      });
      if (!confirmed) {
        this.log.info(
          `SQL editor: the write at line ${item.line} was not confirmed on ${connection.name}; nothing was run.`,
        );
        const outcome: Outcome = {
          state: 'failed',
          kind,
          message: 'Not confirmed: nothing was run.',
          cancelled: true,
          at: new Date(),
        };
        this.results.set(uri, item.text, outcome);
        return outcome;
      }
    }
    this.results.set(uri, item.text, { state: 'running', kind, started: Date.now() });
    this.setRunning(+1);
    const where = `${vscode.workspace.asRelativePath(uri)}:${item.line}`;
    try {
      const outcome = await this.session.use('Run Statement', request.interactive ?? true, (session) =>
        this.execute(session, request),
      );
      this.log.info(
        `SQL editor: ${where} (${KIND_TEXT[kind]}${request.org ? ` ${request.org}` : ''}) on ${connection.name}: ${outcome.summary}` +
          `${outcome.result ? ` in ${outcome.result.durationMs} ms` : ''}${outcome.check ? ` — check ${outcome.check.ok ? 'passed' : `failed: expected ${outcome.check.expected}, got ${outcome.check.actual}`}` : ''}`,
      );
      if (outcome.result?.warning) {
        this.log.warn(`SQL editor: ${where}: ${outcome.result.warning}`);
        void vscode.window.showWarningMessage(
          `Tenant Migration: the statement at line ${item.line} ran. ${outcome.result.warning}`,
        );
      }
      this.results.set(uri, item.text, outcome);
      return outcome;
    } catch (error) {
      const { message, next } = errorText(error);
      const cancelled = /canceling statement due to user request/i.test(message);
      const text = this.log.scrub(
        cancelled ? 'Cancelled: the server stopped the statement.' : `${message}${next ? ` — ${next}` : ''}`,
      );
      const readOnly = /read-only transaction/i.test(message)
        ? ' Statements run read-only and are rolled back: use "Run (write)" to change data.'
        : '';
      this.log.warn(`SQL editor: ${where} (${KIND_TEXT[kind]}) on ${connection.name} failed: ${text}`);
      const check =
        statement.expectation && !('error' in statement.expectation)
          ? { ok: false, expected: statement.expectation.text, actual: `error: ${message}` }
          : undefined;
      const outcome: Outcome = {
        state: 'failed',
        kind,
        message: `${text}${readOnly}`,
        cancelled,
        check,
        at: new Date(),
      };
      this.results.set(uri, item.text, outcome);
      return outcome;
    } finally {
      this.setRunning(-1);
    }
  }

  private async execute(session: Session, request: RunRequest): Promise<Extract<Outcome, { state: 'done' }>> {
    const engine = this.engines.get();
    const { statement, kind } = request;
    const item = statement.item;
    if (item.kind === 'meta') {
      if (!engine.isDescribe(item))
        throw new Error(`\\${item.command} is a psql meta-command: psql runs it, the editor does not.`);
      const text = await engine.describeRelation(session, item.args[0]!, item.command === 'd+');
      const first = text.split('\n')[0]!;
      return {
        state: 'done',
        kind: 'describe',
        summary: /^Did not find/.test(first) ? '→ not found' : `→ ${first}`,
        text,
        at: new Date(),
      };
    }
    const mode = await this.modeFor(session, request);
    const result = await engine.runStatement(session, item.text, mode, {
      timeoutMs: this.settings.value.sqlEditor.statementTimeoutMs,
    });
    let check: CheckResult | undefined;
    if (kind !== 'explain' && statement.expectation && !('error' in statement.expectation)) {
      const verdict = engine.evaluate(statement.expectation, result);
      check = { ok: verdict.ok, expected: statement.expectation.text, actual: verdict.actual };
    }
    const summary =
      kind === 'explain'
        ? `→ ${String(result.rows[0]?.[result.fields[0]!] ?? 'plan')
            .trim()
            .replace(/\s+/g, ' ')
            .slice(0, 100)}`
        : engine.summarize(result);
    return { state: 'done', kind, summary, result, check, org: request.org, at: new Date() };
  }

  private async modeFor(session: Session, request: RunRequest): Promise<RunMode> {
    switch (request.kind) {
      case 'write':
        return { kind: 'write' };
      case 'explain':
        return { kind: 'explain' };
      case 'tenant': {
        const engine = this.engines.get();
        const specUri = this.specFile.uri;
        if (!specUri)
          throw new Error(
            'Run as tenant needs tenant-migration.json: its tenantContext says how the database knows the tenant.',
          );
        const spec = engine.loadSpec(specUri.fsPath);
        const role = await engine.tenantRoleFor(session, this.settings.value.sqlEditor.tenantRole || undefined);
        return { kind: 'tenant', org: request.org!, context: spec.spec.tenantContext, role };
      }
      default:
        return { kind: 'read' };
    }
  }

  private setRunning(delta: number): void {
    this.active += delta;
    this.contextKeys.set('statementRunning', this.active > 0);
  }
}
