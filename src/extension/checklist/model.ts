// The checklist's state: the guide's steps with live status from the engine's events, and the database's truth
// (tenant_migration, through status()) on refresh, after a restart, or when another operator ran a step.
import * as vscode from 'vscode';
import {
  MANUAL_ITEMS,
  STEPS,
  type CheckResult,
  type ChecklistStep,
  type EngineEvent,
  type ManualItem,
  type ProgressInfo,
  type StepStatus,
} from '../../engine/events';
import type { StatusInfo } from '../../engine/status';
import { Disposable } from '../lifecycle';

export interface StepView {
  readonly step: ChecklistStep;
  status: StepStatus;
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  rows?: number;
  summary?: string;
  next?: string;
  checks: CheckResult[];
  /** Backfill progress by table. */
  progress: Map<string, ProgressInfo>;
  /** The table being backfilled right now. */
  backfilling?: string;
  statement?: { index: number; total: number; line: number; phase?: string };
  /** Set while the step waits for a lock and retries. */
  waiting?: string;
  /** Where this view comes from: this window's events, or the database's record. */
  source: 'live' | 'database' | 'none';
}

export interface ManualTick {
  readonly by: string;
  readonly at: string;
}

export interface DatabaseFacts {
  readonly database: string;
  readonly migrated: boolean;
  readonly lastRun?: StatusInfo['lastRun'];
  readonly lockHeldBy?: { pid: number; operator?: string; user: string; since: string; command?: string };
  readonly rolledBackAt?: string;
  readonly readAt: string;
}

const MANUAL_BY_TITLE = new Map(Object.entries(MANUAL_ITEMS).map(([id, title]) => [title as string, id as ManualItem]));

export class ChecklistModel extends Disposable {
  readonly steps = new Map<ChecklistStep, StepView>(STEPS.map((step) => [step, emptyStep(step)]));
  readonly manual = new Map<ManualItem, ManualTick>();
  facts?: DatabaseFacts;
  /** The report the last run in this window wrote (the step's status comes from the engine and the database). */
  report?: { path: string; at: string };
  /** The plan preview was opened in this window. */
  previewedAt?: string;
  private readonly changed = this.register(new vscode.EventEmitter<ChecklistStep | undefined>());
  /** Fires on every change: with the step that changed, or undefined when more than one step may have. */
  readonly onDidChange = this.changed.event;

  step(step: ChecklistStep): StepView {
    return this.steps.get(step)!;
  }

  /** Everything back to "unknown", e.g. when another connection is selected. */
  reset(): void {
    for (const step of STEPS) this.steps.set(step, emptyStep(step));
    this.manual.clear();
    this.facts = undefined;
    this.report = undefined;
    this.previewedAt = undefined;
    this.fire();
  }

  applyEvent(event: EngineEvent): void {
    if (!isChecklistStep(event.step)) return;
    const view = this.step(event.step);
    switch (event.type) {
      case 'step-started':
        this.steps.set(event.step, {
          ...emptyStep(event.step),
          status: 'running',
          startedAt: event.at,
          source: 'live',
          progress: new Map(),
        });
        break;
      case 'statement-started':
        view.statement = { index: event.index, total: event.total, line: event.line, phase: event.phase };
        view.waiting = undefined;
        if (event.phase !== 'backfill') view.backfilling = undefined;
        break;
      case 'progress':
        view.progress.set(event.progress.table, event.progress);
        view.backfilling = event.progress.table;
        break;
      case 'check':
        view.checks.push(event.check);
        break;
      case 'retry':
        view.waiting = `waiting for a lock (attempt ${event.attempt}, next try in ${Math.ceil(event.waitMs / 1000)} s)`;
        break;
      case 'step-finished':
        Object.assign(view, {
          status: event.status,
          durationMs: event.durationMs,
          rows: event.rows,
          summary: event.summary,
          next: event.next,
          finishedAt: new Date().toISOString(),
          statement: undefined,
          waiting: undefined,
          backfilling: undefined,
          source: 'live',
        });
        break;
      default:
        return;
    }
    this.fire(event.step);
  }

  /** The database's record. Steps running live in this window keep their live view. */
  applyStatus(info: StatusInfo): void {
    const rolledBackAt = info.lastRollback?.at;
    for (const s of info.steps) {
      const current = this.step(s.step);
      if (current.status === 'running' && current.source === 'live') continue;
      const undone = s.undone === true;
      if (s.status === 'pending') {
        // Nothing recorded (or undone by a rollback): keep a live result of a read-only step, else pending.
        if (current.source === 'live' && !undone) continue;
        this.steps.set(s.step, {
          ...emptyStep(s.step),
          source: 'database',
          summary: undone ? 'undone by the rollback' : undefined,
        });
        continue;
      }
      this.steps.set(s.step, {
        ...emptyStep(s.step),
        status: s.status,
        startedAt: s.startedAt,
        finishedAt: s.finishedAt,
        durationMs: s.durationMs,
        rows: s.rows,
        summary: s.summary,
        next: s.next,
        checks: s.checks ?? (current.source === 'live' ? current.checks : []),
        progress: current.source === 'live' ? current.progress : new Map(),
        source: 'database',
      });
    }
    this.manual.clear();
    for (const m of info.manualItems) {
      const id = MANUAL_BY_TITLE.get(m.item);
      if (id) this.manual.set(id, { by: m.tickedBy, at: m.tickedAt });
    }
    this.facts = {
      database: info.database,
      migrated: info.migrated,
      lastRun: info.lastRun,
      rolledBackAt,
      readAt: new Date().toISOString(),
      lockHeldBy: info.lockHeldBy && {
        pid: info.lockHeldBy.pid,
        operator: info.lockHeldBy.operator,
        user: info.lockHeldBy.user,
        since: new Date(info.lockHeldBy.since).toISOString(),
        command: info.lockHeldBy.command,
      },
    };
    this.fire();
  }

  tick(item: ManualItem, tick: ManualTick): void {
    this.manual.set(item, tick);
    this.fire('prerequisites');
  }

  setReport(path: string, at = new Date().toISOString()): void {
    this.report = { path, at };
  }

  setPreviewed(): void {
    this.previewedAt = new Date().toISOString();
    Object.assign(this.step('preview'), {
      status: 'done',
      finishedAt: this.previewedAt,
      summary: 'plan reviewed in this window',
      source: 'live',
    });
    this.fire('preview');
  }

  /** The steps' outcome of a finished operation that ended before a step started (refusals, connection errors). */
  failBeforeStart(step: ChecklistStep, summary: string, next?: string): void {
    Object.assign(this.step(step), {
      status: 'failed',
      summary,
      next,
      source: 'live',
      finishedAt: new Date().toISOString(),
    });
    this.fire(step);
  }

  openManualItems(): ManualItem[] {
    return (Object.keys(MANUAL_ITEMS) as ManualItem[]).filter((m) => !this.manual.has(m));
  }

  /** Every change, at once: the views that render it pace themselves (see ChecklistTree). */
  private fire(step?: ChecklistStep): void {
    this.changed.fire(step);
  }
}

function emptyStep(step: ChecklistStep): StepView {
  return { step, status: 'pending', checks: [], progress: new Map(), source: 'none' };
}

function isChecklistStep(step: string): step is ChecklistStep {
  return (STEPS as readonly string[]).includes(step);
}
