// The typed events the engine emits; the CLI, the extension and the JSONL log all consume these.
// The steps themselves (ids, titles, checklist order) are defined once, in steps.ts.
import type { StepId } from './steps';
export { STEPS, STEP_TITLES, type StepId, type ChecklistStep } from './steps';

/** Prerequisites the operator confirms by hand; each tick is recorded with who and when. */
export const MANUAL_ITEMS = {
  'full-dump': 'Full database dump taken',
  'users-notified': 'Users notified of the maintenance window',
  'script-reviewed': 'Migration script reviewed',
} as const;
export type ManualItem = keyof typeof MANUAL_ITEMS;

export type StepStatus = 'pending' | 'running' | 'done' | 'failed' | 'skipped' | 'manual';

export interface CheckResult {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
  /** A failed warning does not fail the step. */
  readonly severity?: 'error' | 'warning';
}

export interface ProgressInfo {
  /** What the rows are going through: copied into the backup, or given their org. */
  readonly action: 'backup' | 'backfill';
  readonly table: string;
  readonly done: number;
  readonly total: number;
  readonly rowsDone: number;
  readonly rowsEstimate: number;
  readonly etaMs?: number;
}

export type EngineEvent =
  | { readonly type: 'step-started'; readonly step: StepId; readonly title: string; readonly at: string }
  | {
      readonly type: 'step-finished';
      readonly step: StepId;
      readonly status: 'done' | 'failed' | 'skipped';
      readonly durationMs: number;
      readonly rows?: number;
      readonly summary: string;
      readonly next?: string;
    }
  | {
      readonly type: 'statement-started';
      readonly step: StepId;
      readonly index: number;
      readonly total: number;
      readonly line: number;
      readonly phase?: string;
      readonly sql: string;
    }
  | {
      readonly type: 'statement-finished';
      readonly step: StepId;
      readonly index: number;
      readonly durationMs: number;
      readonly rows: number | null;
      readonly outcome: 'ok' | 'error' | 'skipped';
      readonly error?: string;
    }
  | { readonly type: 'progress'; readonly step: StepId; readonly progress: ProgressInfo }
  | { readonly type: 'check'; readonly step: StepId; readonly check: CheckResult }
  | {
      readonly type: 'retry';
      readonly step: StepId;
      readonly attempt: number;
      readonly waitMs: number;
      readonly reason: string;
    }
  | { readonly type: 'notice'; readonly step: StepId; readonly message: string };

export type EventListener = (event: EngineEvent) => void;

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  debug(message: string): void;
}

export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} };
