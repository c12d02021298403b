// What each command asks of the engine, and how its result reads to the operator.
import { STEPS, STEP_TITLES, type ChecklistStep } from '../../engine/events';
import type { RunResult, StepResult } from '../../engine/migration';
import type { Operation, Summary } from './runner';

const SCRIPT_STEPS = new Set<ChecklistStep>(['backup', 'migrate']);
const RUN_STEPS: readonly ChecklistStep[] = ['prerequisites', 'preview', 'backup', 'migrate', 'validate', 'isolation', 'tests', 'report'];

/** The guide from `from` on (default: all of it), then the report. */
export function runOperation(from: ChecklistStep = 'prerequisites'): Operation<RunResult> {
  const steps = RUN_STEPS.filter((s) => STEPS.indexOf(s) >= STEPS.indexOf(from));
  return {
    title: from === 'prerequisites' ? 'Run' : `Run from ${STEP_TITLES[from]}`,
    steps,
    writes: steps.some((s) => SCRIPT_STEPS.has(s)),
    appliesScript: steps.includes('migrate'),
    execute: (m) => m.runAll({ from }),
    summarize: (r) => {
      const done = r.steps.filter((s) => s.status === 'done').length;
      const skipped = r.steps.filter((s) => s.status === 'skipped').length;
      if (r.ok) return { ok: true, message: `Migration run complete: ${done} steps done${skipped ? `, ${skipped} skipped` : ''}`, reportPath: r.reportPath };
      return { ok: false, message: r.error?.message ?? 'The run failed', next: r.error?.next, reportPath: r.reportPath };
    },
  };
}

type StepMethod = 'prerequisites' | 'backup' | 'migrate' | 'validate' | 'verifyIsolation' | 'runTests' | 'finalize' | 'cleanup';

const METHOD_FOR_STEP: Partial<Record<ChecklistStep, StepMethod>> = {
  prerequisites: 'prerequisites', backup: 'backup', migrate: 'migrate', validate: 'validate', isolation: 'verifyIsolation', tests: 'runTests',
};

export function stepOperation(method: StepMethod, title: string): Operation<StepResult> {
  const step = (Object.entries(METHOD_FOR_STEP).find(([, m]) => m === method)?.[0] as ChecklistStep | undefined);
  const changesData = method === 'backup' || method === 'migrate' || method === 'finalize' || method === 'cleanup';
  return {
    title,
    steps: step ? [step] : [],
    writes: changesData,
    appliesScript: method === 'migrate',
    execute: (m) => m[method](),
    summarize: stepSummary(title),
  };
}

export function operationForStep(step: ChecklistStep): Operation<StepResult> | undefined {
  const method = METHOD_FOR_STEP[step];
  return method ? stepOperation(method, STEP_TITLES[step]) : undefined;
}

export function rollbackOperation(restoreData: boolean): Operation<{ step: StepResult }> {
  return {
    title: restoreData ? 'Roll Back and Restore Data' : 'Roll Back',
    steps: [],
    writes: true,
    appliesScript: false,
    execute: (m) => m.rollback({ restoreData }),
    summarize: (r) => stepSummary(restoreData ? 'Roll back and restore' : 'Roll back')(r.step),
  };
}

function stepSummary(title: string): (r: StepResult) => Summary {
  return (r) => (r.status === 'failed'
    ? { ok: false, message: `${title} failed: ${r.summary}`, next: r.next }
    : { ok: true, message: `${title}: ${r.status === 'skipped' ? 'skipped, ' : ''}${r.summary}` });
}
