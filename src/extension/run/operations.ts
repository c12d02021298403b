// What each command asks of the engine, and how its result reads to the operator. Which steps write, run the
// script and belong to a run comes from the engine's step registry (src/engine/steps.ts).
import {
  LAST_RUN_STEP,
  STEP_REGISTRY,
  STEP_TITLES,
  appliesScript,
  runSequence,
  stepDefinition,
  type ChecklistStep,
  type StepId,
} from '../../engine/steps';
import type { RunResult, StepResult } from '../../engine/migration';
import type { StepOptions } from '../../engine/step-context';
import type { Operation, Summary } from './runner';

/** The guide from `from` on (default: all of it), then the report. */
export function runOperation(from: ChecklistStep = 'prerequisites'): Operation<RunResult> {
  const sequence = runSequence(from);
  const steps = [...sequence, ...(LAST_RUN_STEP ? [LAST_RUN_STEP] : [])].filter(
    (s): s is ChecklistStep => stepDefinition(s).checklist,
  );
  return {
    title: from === 'prerequisites' ? 'Run' : `Run from ${STEP_TITLES[from]}`,
    steps,
    writes: sequence.some((s) => stepDefinition(s).writes),
    appliesScript: sequence.some(appliesScript),
    writesAs: sequence.find((s) => stepDefinition(s).writes),
    execute: (m, guard) => m.runAll({ from, stepOptions: guard }),
    summarize: (r) => {
      const done = r.steps.filter((s) => s.status === 'done').length;
      const skipped = r.steps.filter((s) => s.status === 'skipped').length;
      if (r.ok)
        return {
          ok: true,
          message: `Migration run complete: ${done} steps done${skipped ? `, ${skipped} skipped` : ''}`,
          reportPath: r.reportPath,
        };
      return {
        ok: false,
        message: r.error?.message ?? 'The run failed',
        next: r.error?.next,
        reportPath: r.reportPath,
      };
    },
  };
}

/** One step on its own; titled as the checklist names it unless its command's title is given. */
export function stepOperation(
  step: StepId,
  title: string = STEP_TITLES[step],
  options: StepOptions = {},
): Operation<StepResult> {
  const definition = stepDefinition(step);
  return {
    title,
    steps: definition.checklist ? [step as ChecklistStep] : [],
    writes: definition.writes,
    appliesScript: appliesScript(step),
    writesAs: definition.writes ? step : undefined,
    execute: (m, guard) => m.runStep(step, { ...options, ...guard }),
    summarize: stepSummary(title),
  };
}

export function rollbackOperation(restoreData: boolean): Operation<StepResult> {
  const title = restoreData ? 'Roll Back and Restore Data' : STEP_REGISTRY.rollback.command.title;
  return {
    ...stepOperation('rollback', title, { restoreData }),
    summarize: stepSummary(restoreData ? 'Roll back and restore' : 'Roll back'),
  };
}

function stepSummary(title: string): (r: StepResult) => Summary {
  return (r) =>
    r.status === 'failed'
      ? { ok: false, message: `${title} failed: ${r.summary}`, next: r.next }
      : { ok: true, message: `${title}: ${r.status === 'skipped' ? 'skipped, ' : ''}${r.summary}` };
}
