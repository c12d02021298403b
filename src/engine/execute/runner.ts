// Runs a script statement by statement in autocommit, as psql does: notices become progress, lock timeouts are
// retried with backoff, a cancel stops the statement on the server, and every statement goes to the audit log. The
// tables' lanes (script/lanes.ts) run side by side on two sessions; everything else runs alone, in the script's order.
import type { Session } from '../db/session';
import { failed } from '../errors';
import { silentLogger, type EventListener, type Logger, type StepId } from '../events';
import { PROGRESS_PREFIX } from '../names';
import { redact } from '../redact';
import type { RunRecord } from '../state';
import { logFailure } from '../log-failure';
import { describePgError } from '../db/pg-errors';
import { statementClassifier, type StatementClass } from '../script/classify';
import { mapInSlices } from '../slices';
import { splitScriptInSlices } from '../script/split-in-slices';
import { executionUnits, type ExecutionUnit } from './units';
import { ProgressTracker, type RawProgress } from './progress';
import { LaneSchedule } from './lane-schedule';
import {
  applySettings,
  openLaneSessions,
  sessionSettings,
  waitForNewerTransactions,
  type SessionSettings,
} from './lane-sessions';
import { runUnitRetrying } from './unit-run';

export { LOCK_RETRY, retryWaitMs } from './unit-run';

/** Sessions the lanes run on unless the spec says (`sessions`): a second CPU while the first backfills a table. */
export const LANE_SESSIONS = 2;

export interface RunScriptOptions {
  readonly session: Session;
  readonly step: StepId;
  readonly run?: RunRecord;
  readonly onEvent: EventListener;
  readonly signal?: AbortSignal;
  /** Only run units in these phases (script step markers); all when undefined. */
  readonly phases?: readonly string[];
  readonly retry?: { attempts: number; firstWaitMs: number };
  /** An audit row that could not be written (the statement's own outcome stands): the step shows it as a warning. */
  readonly onAuditFailure?: (detail: string) => void;
  readonly logger?: Logger;
  /** Sessions for the lanes (LANE_SESSIONS when undefined); 1 runs the whole script in its order on `session`. */
  readonly sessions?: number;
}

export interface ScriptResult {
  readonly statements: number;
  /**
   * Rows the backfill gave their org in this run, per table (from its progress notices). Statements' own row counts
   * are in the audit log, not here: they include the tool's state rows and rows a SELECT returned.
   */
  readonly backfilled: { readonly table: string; readonly rows: number }[];
}

export async function parseUnits(text: string): Promise<ExecutionUnit[]> {
  const items = await splitScriptInSlices(text);
  const classify = await statementClassifier();
  const classes = new Map<string, StatementClass>();
  await mapInSlices(items, (item) => item.kind === 'sql' && classes.set(item.text, classify(item.text)));
  return executionUnits(text, items, (sql) => classes.get(sql) ?? classify(sql));
}

function selectUnits(all: ExecutionUnit[], phases: readonly string[] | undefined): ExecutionUnit[] {
  if (!phases) return all;
  const firstPhased = all.findIndex((u) => u.phase !== undefined);
  // Part of the script (the backup step's phases) still runs under the script's session settings: its header's SETs
  // (statement_timeout, lock_timeout…), as under psql -f.
  const header = (u: ExecutionUnit, i: number) => i < firstPhased && u.setsSession;
  return all.filter((u, i) => (u.phase !== undefined ? phases.includes(u.phase) : header(u, i)));
}

const secondSessionFailed = (error: unknown): never => {
  throw failed(
    `A session of the run failed between statements: ${describePgError(error)}`,
    'Run again: the script resumes where it stopped (spec "sessions": 1 runs it on one session).',
  );
};

export async function runScript(text: string, options: RunScriptOptions): Promise<ScriptResult> {
  const { session, step, onEvent, signal } = options;
  const units = selectUnits(await parseUnits(text), options.phases);
  const total = units.reduce((n, u) => n + Math.max(u.statements.length, 1), 0);
  const tracker = new ProgressTracker();
  const backfilled = new Map<string, number>();
  const runStart = new Map<string, number>();
  const onNotice = (notice: { message: string }) => {
    if (notice.message.startsWith(PROGRESS_PREFIX)) {
      const raw = JSON.parse(notice.message.slice(PROGRESS_PREFIX.length)) as RawProgress;
      const progress = tracker.update(raw);
      if (progress.action === 'backfill') {
        // A table's backfill runs in groups; the first group's rowsBefore is what earlier runs did.
        if (!runStart.has(progress.table)) runStart.set(progress.table, raw.rowsBefore ?? 0);
        backfilled.set(progress.table, progress.rowsDone - runStart.get(progress.table)!);
      }
      onEvent({ type: 'progress', step, progress });
    } else {
      onEvent({ type: 'notice', step, message: redact(notice.message) });
    }
  };
  const width = units.some((u) => u.lane) ? Math.max(1, options.sessions ?? LANE_SESSIONS) : 1;
  const lanes = width > 1 ? await openLaneSessions(session, width - 1) : { sessions: [] };
  if (lanes.problem)
    onEvent({
      type: 'notice',
      step,
      message: `tenant-migration: the run has ${1 + lanes.sessions.length} of its ${width} sessions (one could not be opened: ${lanes.problem})${lanes.sessions.length === 0 ? ': the tables run one after the other' : ''}`,
    });
  const sessions = [session, ...lanes.sessions];
  const stops = sessions.map((s) => s.onNotice(onNotice));
  const cancel = () => {
    for (const s of sessions)
      s.cancel().catch(logFailure(options.logger ?? silentLogger, 'Could not cancel the running statement'));
  };
  signal?.addEventListener('abort', cancel);
  const schedule = new LaneSchedule(units, sessions.length);
  /** The first failure stops what the other sessions run now (everything resumes where it stopped), and says so. */
  const stopBeside = (failedWorker: number, error: unknown) => {
    const running = schedule.runningBeside(failedWorker);
    if (running.length === 0 || signal?.aborted) return; // a cancel stops every session already
    onEvent({
      type: 'notice',
      step,
      message: `tenant-migration: a statement failed (${redact(error instanceof Error ? error.message : String(error)).slice(0, 200)}); stopping the statement the run's other session was running (a re-run resumes both where they stopped)`,
    });
    for (const w of running)
      sessions[w]!.cancel().catch(
        logFailure(options.logger ?? silentLogger, "Could not stop the other session's statement"),
      );
  };
  let statements = 0;
  // Statements are numbered in the order they start (with lanes, not the script's): "statement 40 of 239" stays true.
  let numbered = 0;
  let failure: { error: unknown } | undefined;
  let settings: { version: number; values: SessionSettings } = { version: 0, values: [] };
  const applied = sessions.map(() => -1);
  let wake: () => void = () => undefined;
  let changed = new Promise<void>((resolve) => (wake = resolve));
  const notify = () => {
    const resolve = wake;
    changed = new Promise<void>((r) => (wake = r));
    resolve();
  };
  const work = async (worker: number) => {
    const own = sessions[worker]!;
    while (!failure && !schedule.finished) {
      const block = schedule.takeBlock(worker);
      if (!block) {
        await changed;
        continue;
      }
      if (worker > 0 && applied[worker] !== settings.version) {
        await applySettings(own, settings.values).catch(secondSessionFailed);
        applied[worker] = settings.version;
      }
      for (const i of block) {
        while (!failure && !schedule.mayStart(i, worker)) await changed;
        if (failure) break;
        if (signal?.aborted)
          throw failed(
            'Cancelled before the next statement',
            'Run again to continue: the script resumes where it stopped.',
          );
        const unit = units[i]!;
        if (unit.horizon.needs === 'at-start') {
          schedule.keepHorizonFor(i, worker);
          await waitForNewerTransactions(
            own,
            schedule.runningBeside(worker).map((w) => sessions[w]!.pid),
          ).catch(secondSessionFailed);
        }
        schedule.start(i, worker);
        notify();
        // A unit that fails is never done: nothing that depends on it starts (the failure stops the others).
        const first = numbered;
        numbered += Math.max(unit.statements.length, 1);
        await runUnitRetrying(own, unit, first, total, options, () => schedule.runningBeside(worker).length > 0);
        schedule.finish(i, worker);
        statements += unit.meta ? 1 : unit.statements.length;
        // The step session's settings as the script left them outside any lane: what a lane's session starts from.
        if (!unit.lane && width > 1 && unit.setsSession)
          settings = { version: settings.version + 1, values: await sessionSettings(own) };
        notify();
      }
    }
  };
  try {
    if (width > 1) settings = { version: 1, values: await sessionSettings(session) };
    await Promise.all(
      sessions.map((_, worker) =>
        work(worker).catch((error: unknown) => {
          schedule.leave(worker);
          if (!failure) {
            failure = { error };
            stopBeside(worker, error);
          }
          notify();
        }),
      ),
    );
    if (failure) throw failure.error;
  } finally {
    for (const stop of stops) stop();
    signal?.removeEventListener('abort', cancel);
    await Promise.all(lanes.sessions.map((s) => s.close()));
  }
  return { statements, backfilled: [...backfilled].map(([table, rows]) => ({ table, rows })) };
}
