// Engine events as a progress notification: which step, which statement, rows and time left on a backfill.
import type * as vscode from 'vscode';
import { STEP_TITLES, type ChecklistStep, type EngineEvent, type StepId } from '../../engine/events';
import { stepDefinition } from '../../engine/steps';
import { formatProgress } from '../checklist/format';

/** How much of a whole run a step is, roughly (steps.ts; the backfill dominates). A step the operation does not run counts nothing. */
const weightOf = (step: StepId, steps: readonly StepId[]) => (steps.includes(step) ? stepDefinition(step).weight : 0);

/**
 * The workbench redraws and measures the notification on every report, and a backfill's progress events come tens of
 * times a second: a statement's or a batch's message is shown at most this often (the latest one); a step's start and
 * end at once.
 */
const REPORT_MS = 250;

export class ProgressReporter {
  private readonly total: number;
  private reported = 0;
  private doneWeight = 0;
  private current?: { step: StepId; index: number; total: number; fraction: number };
  private pending?: string;
  private timer?: ReturnType<typeof setTimeout>;
  private lastReport = 0;

  constructor(
    private readonly progress: vscode.Progress<{ message?: string; increment?: number }>,
    private readonly steps: readonly ChecklistStep[],
  ) {
    this.total = steps.reduce((n, s) => n + weightOf(s, steps), 0) || 1;
  }

  handle(event: EngineEvent): void {
    switch (event.type) {
      case 'step-started':
        this.current = { step: event.step, index: 0, total: 0, fraction: 0 };
        this.report(`${STEP_TITLES[event.step]}…`, true);
        return;
      case 'statement-started':
        if (!this.current) return;
        Object.assign(this.current, { index: event.index, total: event.total, fraction: 0 });
        this.report(`${STEP_TITLES[event.step]} · statement ${event.index + 1} of ${event.total}`);
        return;
      case 'progress': {
        if (!this.current) return;
        const p = event.progress;
        this.current.fraction = p.total > 0 ? p.done / p.total : 0;
        this.report(`${STEP_TITLES[event.step]} · ${p.table}: ${formatProgress(p)}`);
        return;
      }
      case 'retry':
        this.report(`${STEP_TITLES[event.step]} · waiting for a lock (attempt ${event.attempt})`);
        return;
      case 'step-finished':
        this.doneWeight += weightOf(event.step, this.steps);
        this.current = undefined;
        this.report(`${STEP_TITLES[event.step]}: ${event.status}`, true);
        return;
      default:
        return;
    }
  }

  /** How much of the operation is done, 0 to 1 (by the steps' weights, the current step by its statements and batches). */
  fraction(): number {
    let weight = this.doneWeight;
    const c = this.current;
    if (c && c.total > 0) weight += weightOf(c.step, this.steps) * Math.min(1, (c.index + c.fraction) / c.total);
    return Math.min(1, weight / this.total);
  }

  /** The run is over: a report still waiting is dropped. */
  dispose(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
  }

  private report(message: string, now = false): void {
    this.pending = message;
    const wait = this.lastReport + REPORT_MS - Date.now();
    if (now || wait <= 0) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), wait);
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const message = this.pending;
    if (message === undefined) return;
    this.pending = undefined;
    this.lastReport = Date.now();
    const percent = this.fraction() * 100;
    const increment = Math.max(0, percent - this.reported);
    this.reported += increment;
    this.progress.report({ message, increment });
  }
}
