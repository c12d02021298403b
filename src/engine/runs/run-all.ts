// `run`: the guide's steps in the registry's order (steps.ts) from one checklist step on, stopping at the first
// failure, then the report, written whatever happened.
import { failed, type MigrationError } from '../errors';
import { asMigrationError } from '../error-translation';
import type { ChecklistStep, Logger, StepId } from '../events';
import { logFailure } from '../log-failure';
import type { StepOptions, StepResult } from '../step-context';
import { LAST_RUN_STEP, STEP_TITLES, runSequence, runsScript } from '../steps';
import type { RunLifecycle } from './lifecycle';

export interface RunResult {
  readonly ok: boolean;
  readonly steps: StepResult[];
  readonly reportPath: string;
  readonly error?: MigrationError;
}

export interface RunAllOptions {
  /** The checklist step to start from (default: the first). */
  readonly from?: ChecklistStep;
  /** The opt-in steps to run too. */
  readonly include?: readonly StepId[];
  /** What the steps are given (the operator's confirmations). */
  readonly stepOptions?: StepOptions;
}

export interface RunAllHost {
  readonly lifecycle: RunLifecycle;
  readonly signal?: AbortSignal;
  readonly logger: Logger;
  runStep(step: StepId, options?: StepOptions): Promise<StepResult>;
  /** Refuses a conflicting mapping or a missing default org. */
  assertCanWrite(): Promise<void>;
  writeReport(startedAt: string): Promise<string>;
}

export async function runAll(host: RunAllHost, options: RunAllOptions): Promise<RunResult> {
  const sequence = runSequence(options.from, options.include);
  const steps: StepResult[] = [];
  let error: MigrationError | undefined;
  const startedAt = new Date().toISOString();
  let reportPath = '';
  try {
    await host.lifecycle.hold('run', { runsScript: sequence.some(runsScript) }, async () => {
      try {
        await runSteps(host, sequence, steps, options.stepOptions);
      } finally {
        // The report is written either way, and recorded as a step while the run still holds the lock.
        if (LAST_RUN_STEP) {
          const last = await host
            .runStep(LAST_RUN_STEP, { runStartedAt: startedAt })
            .catch(logFailure(host.logger, `${STEP_TITLES[LAST_RUN_STEP]} failed inside the run`));
          reportPath = last?.reportPath ?? '';
        }
      }
    });
  } catch (e) {
    error = asMigrationError(e);
  }
  if (!reportPath) reportPath = await host.writeReport(startedAt);
  return { ok: !error, steps, reportPath, error };
}

async function runSteps(
  host: RunAllHost,
  sequence: readonly StepId[],
  steps: StepResult[],
  stepOptions: StepOptions = {},
): Promise<void> {
  for (const id of sequence) {
    if (host.signal?.aborted)
      throw failed(
        `Cancelled before ${STEP_TITLES[id]}`,
        'Run again to continue: every step resumes where it stopped.',
      );
    const result = await host.runStep(id, stepOptions);
    steps.push(result);
    if (result.status !== 'failed') continue;
    if (id === 'prerequisites') await host.assertCanWrite(); // conflicts and a missing default org are refusals
    throw failed(`${STEP_TITLES[id]} failed: ${result.summary}`, result.next ?? 'See the report.');
  }
}
