// The engine's facade: one object per connection and spec; the CLI and the extension are thin layers over it. The
// steps are defined in steps.ts, their bodies in steps/<id>.ts; runs/ holds a run's lock and record (lifecycle.ts),
// a step's events and record (step-recorder.ts), `run` (run-all.ts), the report file and the test commands.
import { Session } from './db/session';
import type { ConnectionTarget } from './db/connection-options';
import {
  MANUAL_ITEMS,
  silentLogger,
  type EngineEvent,
  type EventListener,
  type Logger,
  type ManualItem,
  type StepId,
} from './events';
import { findGaps, mappingStub, type GapOptions, type GapReport } from './gaps';
import { planInStages, type PlanOptions } from './plan-stages';
import { logFailure } from './log-failure';
import { resolveModel, type MigrationModel } from './model';
import { assertCanWrite } from './refusals';
import { specFolder, workFolder } from './paths';
import { displayName } from './db/sql';
import type { Plan } from './plan';
import type { RollbackOptions, RollbackResult } from './rollback';
import { RunLifecycle } from './runs/lifecycle';
import { runAll, type RunAllOptions, type RunResult } from './runs/run-all';
import { writeReportFile } from './runs/report-file';
import { loadStepBody } from './runs/step-body';
import { StepRecorder } from './runs/step-recorder';
import { readScript, writeScript } from './script/script-file';
import type { LoadedSpec } from './migration-spec/load';
import { acquireRunLock, ensureStateSchema, releaseRunLock, tickManualItem } from './state';
import { findTraces, NOTHING_TO_DO } from './traces';
import { readStatus, type StatusInfo } from './status';
import type { StepContext, StepOptions, StepResult } from './step-context';
import { runSequence, runsScript, stepDefinition } from './steps';
import { auditUntickedAnswer, untickedManualItems, untickedRefusal, type UntickedPolicy } from './manual-items';

export { TOOL_VERSION, sha256 } from './version';
export { asMigrationError } from './error-translation';
export { usageError } from './errors';
export type { StepResult, StepOptions } from './step-context';
export type { RunResult } from './runs/run-all';
export type { PlanOptions } from './plan-stages';

export interface MigrationOptions {
  readonly database: string | ConnectionTarget;
  readonly spec: LoadedSpec;
  readonly onEvent?: EventListener;
  readonly logger?: Logger;
  readonly signal?: AbortSignal;
  /** Where the JSONL logs and reports go (default: .tenant-migration beside the spec). */
  readonly workFolder?: string;
  /** Passed to the project's test commands as DATABASE_URL. */
  readonly databaseUrlForTests?: string;
}

export class Migration {
  private modelPromise?: Promise<MigrationModel>;
  private gapsCache?: GapReport;
  private readonly lifecycle: RunLifecycle;
  private readonly recorder: StepRecorder;
  private readonly context: StepContext;
  readonly workFolder: string;

  private constructor(
    readonly session: Session,
    private readonly options: MigrationOptions,
  ) {
    this.workFolder = workFolder(options.spec, options.workFolder);
    const { signal, spec } = options;
    const host = {
      session,
      signal,
      logger: this.logger,
      model: () => this.model(),
      scriptText: () => this.scriptText(),
    };
    this.lifecycle = new RunLifecycle({
      ...host,
      workFolder: this.workFolder,
      scriptPath: spec.scriptPath,
      assertCanWrite: () => this.assertCanWrite(),
    });
    this.recorder = new StepRecorder({ ...host, run: () => this.lifecycle.run, emit: this.emit });
    this.context = {
      ...host,
      spec,
      specFolder: specFolder(spec),
      databaseUrlForTests: options.databaseUrlForTests,
      emit: this.emit,
      gaps: (o) => this.gaps(o),
      plan: () => this.plan(),
      generate: () => this.generate(),
      assertCanWrite: () => this.assertCanWrite(),
      writeReport: (at) => this.writeReport(at),
      warn: (check) => this.recorder.warn(check),
      scriptRun: (step) => ({
        session,
        step,
        run: this.lifecycle.run,
        onEvent: this.emit,
        signal,
        logger: this.logger,
        onAuditFailure: (detail) => this.recorder.warn({ name: 'Audit log', detail }),
        sessions: this.options.spec.spec.sessions,
      }),
    };
  }

  static async connect(options: MigrationOptions): Promise<Migration> {
    const session = await Session.open(options.database, { lockTimeoutMs: options.spec.spec.lockTimeoutMs });
    await session.query('SET row_security = off');
    return new Migration(session, options);
  }

  get spec(): LoadedSpec {
    return this.options.spec;
  }

  get logger(): Logger {
    return this.options.logger ?? silentLogger;
  }

  model(): Promise<MigrationModel> {
    this.modelPromise ??= resolveModel(this.session, this.options.spec);
    return this.modelPromise;
  }

  private readonly emit = (event: EngineEvent): void => {
    this.lifecycle.log?.write(event);
    this.options.onEvent?.(event);
  };

  /** The script the team reviews: theirs when it exists, else generated from the spec (not written). */
  scriptText(): Promise<{ text: string; exists: boolean }> {
    return readScript(this.spec, () => this.model());
  }

  generate(force = false): Promise<{ path: string; written: boolean }> {
    return writeScript(this.spec, () => this.model(), force);
  }

  /**
   * The mapping gaps. What blocks a run is always exact; `quick` (the preview) estimates how many rows of a large
   * table get the default org from a sample. An exact report also answers later quick asks. `sessions`: read on
   * these (left open) instead of this one and its siblings.
   */
  async gaps(options: GapOptions = {}, sessions?: readonly Session[]): Promise<GapReport> {
    const known = this.knownGaps(options);
    if (known) return known;
    this.gapsCache = await findGaps(sessions ?? this.session, await this.model(), options);
    return this.gapsCache;
  }

  private knownGaps(options: GapOptions): GapReport | undefined {
    const cached = this.gapsCache;
    return cached && (options.quick || !cached.tables.some((t) => t.estimated)) ? cached : undefined;
  }

  async mappingStub(): Promise<string> {
    return mappingStub(this.session, await this.model());
  }

  /**
   * Read-only: writes nothing to the database or the workspace. Large tables' counts are estimated unless `exact`;
   * what blocks a run is always checked exactly in the plan it returns. With `onFirstAnswer`, a first plan comes
   * before that: its gaps estimated from the catalog and samples, the exact checks not yet answered listed in
   * `gaps.pending` (called only when the first answer differs from the exact one).
   */
  plan(options: PlanOptions = {}): Promise<Plan> {
    return planInStages(
      {
        session: this.session,
        model: () => this.model(),
        scriptText: () => this.scriptText(),
        knownGaps: (o) => this.knownGaps(o),
        gaps: (o, sessions) => this.gaps(o, sessions),
        keepGaps: (report) => {
          this.gapsCache = report;
        },
      },
      options,
    );
  }

  async status(): Promise<StatusInfo> {
    return readStatus(this.session, await this.model());
  }

  /** Runs one step (steps.ts); a recorded step holds the run lock and is recorded as a run unless a run is on. */
  async runStep(step: StepId, options: StepOptions = {}): Promise<StepResult> {
    const idle = await this.nothingToDo(step, options);
    if (idle) return idle;
    const definition = stepDefinition(step);
    const policy = definition.writes ? options.untickedManualItems : undefined;
    const unticked = policy ? await this.refuseUnticked(definition.title, policy) : [];
    const body = await loadStepBody(step);
    const record = async () => {
      if (policy && 'goOn' in policy && unticked.length)
        await auditUntickedAnswer(this.session, this.lifecycle.run, step, unticked, `went on (${policy.goOn})`);
      return this.recorder.record(step, () => body(this.context, options));
    };
    if (!definition.recorded) return record();
    return this.lifecycle.hold(definition.cli?.name ?? step, { runsScript: runsScript(step) }, record);
  }

  prerequisites = () => this.runStep('prerequisites');
  preview = () => this.runStep('preview');
  backup = () => this.runStep('backup');
  migrate = () => this.runStep('migrate');
  validate = () => this.runStep('validate');
  verifyIsolation = () => this.runStep('isolation');
  runTests = () => this.runStep('tests');
  finalize = () => this.runStep('finalize');
  cleanup = () => this.runStep('cleanup');
  /** Step 5b: no context, no rows (or, with undo, back to transition mode). */
  enforce = (options: StepOptions = {}) => this.runStep('enforce', options);
  /** Writes the isolation matrix as pgTAP files (`outDir` relative to the spec's folder; default supabase/tests/database). */
  exportTests = (outDir?: string) => this.runStep('export-tests', { exportTo: outDir });

  async rollback(options: RollbackOptions): Promise<{ step: StepResult; result?: RollbackResult }> {
    const step = await this.runStep('rollback', options);
    return { step, result: step.rollback };
  }

  /**
   * A step with nothing to act on ends here, skipped, before anything is written (not even the state schema or a run
   * record). Read under the run lock, so a run in progress is refused as usual instead.
   */
  private async nothingToDo(step: StepId, options: StepOptions): Promise<StepResult | undefined> {
    const why = NOTHING_TO_DO[step];
    // --restore-data asks for the backups: without them it is refused (exit 3), never "nothing to do".
    if (!why || this.lifecycle.run || (step === 'rollback' && options.restoreData)) return undefined;
    await acquireRunLock(this.session);
    let reason: string | undefined;
    try {
      reason = why(await findTraces(this.session, await this.model()));
    } finally {
      await releaseRunLock(this.session);
    }
    if (!reason) return undefined;
    const result = await this.recorder.record(step, async () => ({ status: 'skipped', summary: reason, checks: [] }));
    return { ...result, nothingToDo: true };
  }

  private async assertCanWrite(): Promise<void> {
    return assertCanWrite(this.session, await this.model(), () => this.gaps({ quick: true }));
  }

  /** The manual prerequisites nobody has ticked on this database (reads only). */
  untickedManualItems(): Promise<ManualItem[]> {
    return untickedManualItems(this.session);
  }

  /** With a `refuse` policy, refuses while items are unticked (before anything is written); returns the unticked items. */
  private async refuseUnticked(action: string, policy: UntickedPolicy): Promise<ManualItem[]> {
    await this.model(); // a spec that does not match the database is the first thing to fix
    const unticked = await untickedManualItems(this.session);
    if (unticked.length && 'refuse' in policy) throw untickedRefusal(action, unticked, policy.refuse(unticked));
    return unticked;
  }

  /** Records in the audit log that the operator did not run `step` because of unticked manual items. */
  async recordUntickedDecline(step: StepId, items: readonly ManualItem[], answer: string): Promise<void> {
    await ensureStateSchema(this.session);
    await auditUntickedAnswer(this.session, undefined, step, items, answer, 'cancelled');
  }

  /** Records that the operator did a manual prerequisite (who and when come from this machine). */
  async tickManualItem(item: ManualItem): Promise<void> {
    await ensureStateSchema(this.session);
    await tickManualItem(this.session, MANUAL_ITEMS[item]);
  }

  /** The whole guide (or the part from one checklist step on): stops at the first failure; the report is written either way. */
  async runAll(options: RunAllOptions = {}): Promise<RunResult> {
    const policy = options.stepOptions?.untickedManualItems;
    // Refused before the run starts (a run is recorded): the steps before the first writing one would be recorded.
    if (policy && runSequence(options.from, options.include).some((s) => stepDefinition(s).writes))
      await this.refuseUnticked('Run', policy);
    return runAll(
      {
        lifecycle: this.lifecycle,
        signal: this.options.signal,
        logger: this.logger,
        runStep: (step, o) => this.runStep(step, o),
        assertCanWrite: () => this.assertCanWrite(),
        writeReport: (at) => this.writeReport(at),
      },
      options,
    );
  }

  async writeReport(startedAt = new Date().toISOString()): Promise<string> {
    const { text } = await this.scriptText();
    return writeReportFile(
      {
        session: this.session,
        spec: this.spec,
        workFolder: this.workFolder,
        scriptText: text,
        outcomes: this.recorder.outcomes,
        recordedOutcomes: async () =>
          (await this.status()).steps.map((st) => ({
            step: st.step,
            status: st.status === 'done' || st.status === 'failed' || st.status === 'skipped' ? st.status : 'pending',
            rows: st.rows,
            summary: st.summary,
          })),
        gaps: this.gapsCache,
        logger: this.logger,
        sharedTables: (await this.model().catch(() => undefined))?.sharedTables.map((t) => displayName(t.name)),
      },
      startedAt,
    );
  }

  async close(): Promise<void> {
    await this.lifecycle.end(false).catch(logFailure(this.logger, 'Could not close the run'));
    await this.session.close();
  }
}
