// Runs one step's body with its events, timing, cancel, record in tenant_migration and the "what next" of a
// failure. Warnings raised while the body runs (an audit row that could not be written) become checks of the step.
import type { Session } from '../db/session';
import { MigrationError, failed } from '../errors';
import { asMigrationError } from '../error-translation';
import type { CheckResult, EngineEvent, Logger, StepId } from '../events';
import { logFailure } from '../log-failure';
import type { StepOutcome } from '../report';
import { recordStep, type RunRecord } from '../state';
import { failedChecks, type StepOutput, type StepResult } from '../step-context';
import { STEP_TITLES, runsScript } from '../steps';

export interface RecorderHost {
  readonly session: Session;
  readonly signal?: AbortSignal;
  readonly logger: Logger;
  /** The run the steps are recorded in, if any. */
  run(): RunRecord | undefined;
  emit(event: EngineEvent): void;
}

export class StepRecorder {
  private outcomeList: StepOutcome[] = [];
  private warnings: CheckResult[] = [];

  constructor(private readonly host: RecorderHost) {}

  /** The latest outcome of every step run in this process, for the report. */
  get outcomes(): readonly StepOutcome[] {
    return this.outcomeList;
  }

  /** A warning check for the running step (it does not fail it); logged at once. */
  warn(check: Omit<CheckResult, 'ok' | 'severity'>): void {
    this.host.logger.warn(`${check.name}: ${check.detail}`);
    this.warnings.push({ ...check, ok: false, severity: 'warning' });
  }

  async record(step: StepId, body: () => Promise<StepOutput>): Promise<StepResult> {
    const host = this.host;
    const session = host.session;
    const started = performance.now();
    const startedAt = new Date().toISOString();
    const elapsed = () => Math.round(performance.now() - started);
    this.warnings = [];
    host.emit({ type: 'step-started', step, title: STEP_TITLES[step], at: startedAt });
    const run = host.run();
    if (run) await recordStep(session, run, step, 'running');
    // A cancel stops the running query on the server; the script runner does this itself for the steps that run the script.
    const signal = runsScript(step) ? undefined : host.signal;
    const cancel = () => {
      session.cancel().catch(logFailure(host.logger, `Could not cancel the query of ${STEP_TITLES[step]}`));
    };
    signal?.addEventListener('abort', cancel, { once: true });
    let result: StepResult;
    try {
      const out = await body();
      const checks = [...out.checks, ...this.warnings];
      const status = out.status ?? (failedChecks(checks).length > 0 ? 'failed' : 'done');
      result = { ...out, checks, step, status, durationMs: elapsed() };
    } catch (error) {
      const e =
        host.signal?.aborted && !(error instanceof MigrationError)
          ? failed(
              `Cancelled during ${STEP_TITLES[step]}; the server stopped the running query`,
              'Run again to continue: every step resumes where it stopped.',
            )
          : asMigrationError(error);
      const checks = [...this.warnings];
      result = { step, status: 'failed', durationMs: elapsed(), summary: e.message, next: e.next, checks };
      signal?.removeEventListener('abort', cancel);
      this.finish(result, startedAt);
      if (run && !session.isClosed) {
        await recordStep(session, run, step, 'failed', {
          summary: e.message,
          detail: { checks, next: e.next },
          finished: true,
        }).catch(
          logFailure(host.logger, `Could not record in tenant_migration.steps that ${STEP_TITLES[step]} failed`),
        );
      }
      throw e;
    }
    signal?.removeEventListener('abort', cancel);
    this.finish(result, startedAt);
    if (run)
      await recordStep(session, run, step, result.status, {
        rows: result.rows,
        summary: result.summary,
        detail: { checks: result.checks, next: result.next },
        finished: true,
      });
    return result;
  }

  private finish(result: StepResult, startedAt: string): void {
    this.outcomeList = this.outcomeList.filter((o) => o.step !== result.step);
    this.outcomeList.push({
      step: result.step,
      status: result.status,
      startedAt,
      durationMs: result.durationMs,
      rows: result.rows,
      summary: result.summary,
      next: result.next,
      checks: result.checks,
    });
    for (const check of result.checks) this.host.emit({ type: 'check', step: result.step, check });
    this.host.emit({
      type: 'step-finished',
      step: result.step,
      status: result.status,
      durationMs: result.durationMs,
      rows: result.rows,
      summary: result.summary,
      next: result.next,
    });
  }
}
