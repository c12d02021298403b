// Runs one migration operation at a time: connect, confirm on production, a progress notification whose Cancel
// aborts the engine (which cancels the statement on the server), events to the checklist, the log and the
// notification, the database's state read back at the end, and the outcome shown with what to do next.
import fs from 'node:fs';
import * as vscode from 'vscode';
import { MANUAL_ITEMS, type ChecklistStep, type EngineEvent, type StepId } from '../../engine/events';
import type { StepOptions } from '../../engine/step-context';
import type { UntickedPolicy } from '../../engine/manual-items';
import { askAboutUnticked } from './unticked-prompt';
import type { ChecklistModel } from '../checklist/model';
import type { ConnectionService } from '../connections/connections';
import type { ProductionGuard } from '../connections/safety';
import type { ContextKeys } from '../context-keys';
import { errorText, showError } from '../errors';
import { Disposable } from '../lifecycle';
import type { ExtensionLog } from '../log';
import { EventLog } from './event-log';
import type { MigrationOpener, OpenedMigration } from './open-migration';
import { ProgressReporter } from './progress-reporter';
import { formatDuration } from '../checklist/format';
import { inVsCode } from '../checklist/wording';

export type Migration = OpenedMigration['migration'];

export interface Summary {
  readonly ok: boolean;
  readonly message: string;
  readonly next?: string;
  readonly reportPath?: string;
  /** Nothing ran: not confirmed, or cancelled before it started. */
  readonly cancelled?: boolean;
}

export interface Operation<T> {
  /** "Run", "Back Up", … */
  readonly title: string;
  /** The checklist steps it runs (for the progress bar's proportions). */
  readonly steps: readonly ChecklistStep[];
  /** Changes data: on a production connection the operator confirms by typing the database name. */
  readonly writes: boolean;
  /** Applies the script: success on a non-production connection is recorded as a rehearsal of it. */
  readonly appliesScript: boolean;
  /** Its first writing step (the audit log's step for the operator's answer about unticked manual items). */
  readonly writesAs?: StepId;
  /** `guard`: what the engine does about unticked manual items (the operator has answered). */
  execute(migration: Migration, guard: Pick<StepOptions, 'untickedManualItems'>): Promise<T>;
  summarize(result: T): Summary;
}

export interface ActiveRun {
  readonly title: string;
  readonly connection: string;
  readonly step?: StepId;
  readonly startedAt: number;
  /** A step has started (so a failure is on the checklist already). */
  readonly stepped?: boolean;
}

export class OperationRunner extends Disposable {
  private current?: ActiveRun & { controller: AbortController; reporter?: ProgressReporter };
  private readonly changed = this.register(new vscode.EventEmitter<ActiveRun | undefined>());
  readonly onDidChange = this.changed.event;
  private readonly events: EventLog;

  constructor(
    private readonly opener: MigrationOpener,
    private readonly connections: ConnectionService,
    private readonly guard: ProductionGuard,
    private readonly model: ChecklistModel,
    private readonly contextKeys: ContextKeys,
    private readonly log: ExtensionLog,
  ) {
    super();
    this.events = new EventLog(log);
  }

  get active(): ActiveRun | undefined {
    return this.current;
  }

  /** "Run: 1 min 20 s elapsed · about 2 min left (40%)" while an operation runs (the whole of it, not the step). */
  progressLine(now = Date.now()): string | undefined {
    const run = this.current;
    if (!run) return undefined;
    const elapsed = now - run.startedAt;
    const fraction = run.reporter?.fraction() ?? 0;
    // Before a twentieth is done the estimate says more about the connection than about the run.
    const left =
      fraction >= 0.05 && fraction < 1
        ? `about ${formatDuration((elapsed * (1 - fraction)) / fraction)} left (${Math.floor(fraction * 100)}%)`
        : 'estimating time left';
    return `${run.title}: ${formatDuration(elapsed)} elapsed · ${left}`;
  }

  /** Cancels the running operation; the engine stops the statement on the server. */
  cancel(): boolean {
    if (!this.current || this.current.controller.signal.aborted) return false;
    this.log.warn(`Cancelling ${this.current.title}…`);
    this.current.controller.abort();
    return true;
  }

  async run<T>(op: Operation<T>): Promise<Summary> {
    if (this.current) {
      const message = `"${this.current.title}" is running on ${this.current.connection}: wait for it, or cancel it.`;
      void vscode.window.showWarningMessage(message, 'Show Log').then((b) => b && this.log.show());
      return { ok: false, message, cancelled: true };
    }
    const controller = new AbortController();
    this.setActive({
      title: op.title,
      connection: this.connections.selected()?.name ?? '',
      startedAt: Date.now(),
      controller,
    });
    let opened: OpenedMigration | undefined;
    try {
      opened = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: `Tenant Migration: connecting for ${op.title}` },
        () =>
          this.opener.open({
            action: op.title,
            interactive: true,
            signal: controller.signal,
            onEvent: (e) => this.onEvent(e),
          }),
      );
      const { migration, resolved, engine } = opened;
      if (op.appliesScript && !fs.existsSync(migration.spec.scriptPath)) {
        const out = await migration.generate();
        this.log.info(`Generated ${out.path} from the spec.`);
        void vscode.window.showInformationMessage(
          `Generated ${vscode.workspace.asRelativePath(out.path)} from the spec: it is the script the team reviews.`,
        );
      }
      const checksum = op.writes || op.appliesScript ? engine.sha256((await migration.scriptText()).text) : undefined;
      const target = { connection: resolved.connection, action: op.title, database: resolved.target.database };
      let untickedManualItems: UntickedPolicy | undefined;
      const unticked = op.writes ? await migration.untickedManualItems() : [];
      if (unticked.length) {
        const answer = await askAboutUnticked(target, unticked);
        if (answer !== 'go') {
          await migration
            .recordUntickedDecline(
              op.writesAs ?? 'prerequisites',
              unticked,
              'not run (the operator cancelled in VS Code)',
            )
            .catch((e: unknown) =>
              this.log.warn(`The answer could not be recorded in the audit log: ${errorText(e).message}`),
            );
          this.log.info(
            `${op.title} on ${resolved.connection.name}: not run, manual prerequisites are not ticked; nothing was changed.`,
          );
          return {
            ok: false,
            message: 'Not run: manual prerequisites are not ticked (the answer is in the audit log).',
            cancelled: true,
          };
        }
        untickedManualItems = { goOn: 'the operator answered "Run Anyway" in VS Code' };
      }
      if (
        op.writes &&
        checksum &&
        !(await this.guard.confirm({
          ...target,
          checksum,
          openManualItems: unticked.map((m) => MANUAL_ITEMS[m]),
          targetNamed: unticked.length > 0,
        }))
      ) {
        this.log.info(`${op.title} on ${resolved.connection.name}: not confirmed; nothing was changed.`);
        return { ok: false, message: 'Not confirmed: nothing was changed.', cancelled: true };
      }
      this.log.info(
        `${op.title} on ${resolved.connection.description}${checksum ? ` (script sha256 ${checksum})` : ''}`,
      );
      const started = Date.now();
      const result = await vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: `Tenant Migration: ${op.title} on ${resolved.connection.name}`,
          cancellable: true,
        },
        async (progress, token) => {
          const reporter = new ProgressReporter(progress, op.steps);
          this.current!.reporter = reporter;
          token.onCancellationRequested(() => this.cancel());
          try {
            return await op.execute(migration, { untickedManualItems });
          } finally {
            reporter.dispose();
          }
        },
      );
      const outcome = op.summarize(result);
      const summary: Summary = !outcome.ok && controller.signal.aborted ? { ...outcome, cancelled: true } : outcome;
      this.showRefusal(op, summary);
      if (summary.ok && op.appliesScript && checksum) await this.guard.recordRehearsal(resolved.connection, checksum);
      if (summary.reportPath) this.model.setReport(summary.reportPath);
      await this.readBack(migration);
      this.announce(summary, Date.now() - started);
      return summary;
    } catch (error) {
      const { message, next } = errorText(error);
      this.showRefusal(op, { ok: false, message, next });
      if (opened) await this.readBack(opened.migration);
      const cancelled = controller.signal.aborted;
      showError(this.log, error, cancelled ? `${op.title} cancelled` : `${op.title} failed`);
      return {
        ok: false,
        message: this.log.scrub(message),
        next: next && this.log.scrub(next),
        cancelled: cancelled || undefined,
      };
    } finally {
      await opened?.migration.close();
      this.setActive(undefined);
    }
  }

  /** A failure before the first step (a conflicting mapping, a missing default org) is shown on the step it stops. */
  private showRefusal(op: Operation<unknown>, summary: Summary): void {
    const active = this.current as ActiveRun | undefined;
    if (!summary.ok && !active?.stepped && op.steps[0])
      this.model.failBeforeStart(op.steps[0], summary.message, summary.next);
  }

  private onEvent(event: EngineEvent): void {
    this.model.applyEvent(event);
    this.events.write(event);
    this.current?.reporter?.handle(event);
    if (event.type === 'step-started' && this.current)
      this.setActive({ ...this.current, step: event.step, stepped: true });
  }

  /** The database's truth after the operation (also after a failure, when the connection still works). */
  private async readBack(migration: Migration): Promise<void> {
    if (migration.session.isClosed) return;
    try {
      this.model.applyStatus(await migration.status());
    } catch (error) {
      this.log.warn(`Could not read the migration state back: ${errorText(error).message}`);
    }
  }

  private announce(summary: Summary, ms: number): void {
    const text = `${summary.message} (${formatDuration(ms)})`;
    const buttons = summary.reportPath ? ['Open Report', 'Show Log'] : ['Show Log'];
    const show = summary.ok
      ? vscode.window.showInformationMessage(text, ...buttons)
      : vscode.window.showErrorMessage(`${text}${summary.next ? ` — ${inVsCode(summary.next)}` : ''}`, ...buttons);
    (summary.ok ? this.log.info : this.log.error).call(this.log, text);
    void show.then((b) =>
      b === 'Open Report'
        ? vscode.commands.executeCommand('tenantMigration.openReport')
        : b === 'Show Log'
          ? this.log.show()
          : undefined,
    );
  }

  private setActive(
    active: (ActiveRun & { controller: AbortController; reporter?: ProgressReporter }) | undefined,
  ): void {
    this.current = active;
    this.contextKeys.set('running', !!active);
    this.changed.fire(active);
  }
}
