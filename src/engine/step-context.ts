// What a step's body (src/engine/steps/<id>.ts) gets from the Migration, and what it gives back.
import type { Session } from './db/session';
import type { CheckResult, EngineEvent, StepId } from './events';
import type { GapOptions, GapReport } from './gaps';
import type { Probe } from './isolation';
import type { MigrationModel } from './model';
import type { Plan } from './plan';
import type { RollbackResult } from './rollback';
import type { LoadedSpec } from './migration-spec/load';
import type { RunScriptOptions } from './execute/runner';
import type { UntickedPolicy } from './manual-items';

export interface StepResult {
  readonly step: StepId;
  readonly status: 'done' | 'failed' | 'skipped';
  readonly durationMs: number;
  readonly rows?: number;
  readonly summary: string;
  readonly next?: string;
  readonly checks: CheckResult[];
  /** Verify isolation: every probe of the matrix. */
  readonly probes?: Probe[];
  /** Roll back: what was undone and restored. */
  readonly rollback?: RollbackResult;
  /** Report: the file written. */
  readonly reportPath?: string;
  /** Export tests: the pgTAP files written. */
  readonly exportedFiles?: string[];
  /** Set when the step found nothing to act on and changed nothing (rollback, finalize, cleanup). */
  readonly nothingToDo?: boolean;
}

/** A body's result; the status defaults to failed when a check that is not a warning failed, else done. */
export type StepOutput = Omit<StepResult, 'step' | 'durationMs' | 'status'> & {
  readonly status?: StepResult['status'];
};

/** What the caller asks of a step beyond running it (the CLI's flags, the extension's choices). */
export interface StepOptions {
  /** Roll back: also restore the data from the backups. */
  readonly restoreData?: boolean;
  /** Roll back with restoreData: even if rows written since would be lost. */
  readonly acceptDataLoss?: boolean;
  /** Report: when the run it reports on started. */
  readonly runStartedAt?: string;
  /** Enforce: the operator's confirmation that the application sends the tenant context with every request. */
  readonly appSendsContext?: boolean;
  /** Enforce: back to transition mode. */
  readonly undo?: boolean;
  /** Enforce: the time the JWT expiry is measured against (tests). */
  readonly now?: Date;
  /** Export tests: the folder to write to (relative to the spec's folder); default supabase/tests/database. */
  readonly exportTo?: string;
  /** A writing step with unticked manual prerequisites: refuse, or go on and record it (manual-items.ts). */
  readonly untickedManualItems?: UntickedPolicy;
}

export interface StepContext {
  readonly session: Session;
  readonly spec: LoadedSpec;
  readonly signal?: AbortSignal;
  /** The folder of the spec: relative paths in it (test commands' cwd) start here. */
  readonly specFolder: string;
  /** Passed to the project's test commands as DATABASE_URL. */
  readonly databaseUrlForTests?: string;
  model(): Promise<MigrationModel>;
  gaps(options?: GapOptions): Promise<GapReport>;
  plan(): Promise<Plan>;
  /** The script the team reviews, or the one generated from the spec when there is none (not written). */
  scriptText(): Promise<{ text: string; exists: boolean }>;
  /** Writes the script generated from the spec when there is none. */
  generate(): Promise<{ path: string; written: boolean }>;
  /** Refuses (a conflicting mapping, a missing default org) before anything is written. */
  assertCanWrite(): Promise<void>;
  writeReport(startedAt?: string): Promise<string>;
  emit(event: EngineEvent): void;
  /** A warning check for this step (it does not fail it): something the step went on after, e.g. an audit row not written. */
  warn(check: { readonly name: string; readonly detail: string }): void;
  /** What the script runner needs to run (part of) the script as this step. */
  scriptRun(step: StepId): RunScriptOptions;
}

export type StepBody = (context: StepContext, options: StepOptions) => Promise<StepOutput>;

/** The checks that fail their step: failed and not a warning. */
export function failedChecks(checks: readonly CheckResult[]): CheckResult[] {
  return checks.filter((c) => !c.ok && c.severity !== 'warning');
}
