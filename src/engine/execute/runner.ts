// Runs a script statement by statement in autocommit, as psql does: notices become progress, lock timeouts are
// retried with backoff, a cancel stops the statement on the server, and every statement goes to the audit log.
import type { Session } from '../db/session';
import { MigrationError, failed } from '../errors';
import { silentLogger, type EventListener, type Logger, type StepId } from '../events';
import { PROGRESS_PREFIX } from '../names';
import { redact } from '../redact';
import { appendAudit, type AuditEntry, type RunRecord } from '../state';
import { describePgError, isRetryable } from '../db/pg-errors';
import { logFailure } from '../log-failure';
import { statementClassifier } from '../script/classify';
import { splitScript } from '../script/parse';
import { executionUnits, type ExecutionUnit } from './units';
import { ProgressTracker, type RawProgress } from './progress';

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
  const items = await splitScript(text);
  const classify = await statementClassifier();
  return executionUnits(text, items, classify);
}

/** Writes an audit row for a statement that failed or is retried; the statement's error is what the step reports. */
async function auditAfterFailure(options: RunScriptOptions, entry: AuditEntry): Promise<void> {
  try {
    await appendAudit(options.session, options.run, entry);
  } catch (error) {
    options.onAuditFailure?.(
      `the audit row for the ${entry.outcome} statement "${redact(entry.statement).slice(0, 80)}" could not be written: ${describePgError(error)}`,
    );
  }
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

/**
 * A statement that timed out waiting for its lock is tried again after a wait that doubles (100 ms, 200 ms … 6.4 s:
 * about 13 s in all with the default 100-ms lock timeout), each shortened by up to a quarter at random so that two
 * runners, or a runner and an application retrying the same way, do not collide again in step.
 */
export const LOCK_RETRY = { attempts: 8, firstWaitMs: 100 };

export function retryWaitMs(firstWaitMs: number, attempt: number, random = Math.random()): number {
  return Math.round(firstWaitMs * 2 ** (attempt - 1) * (1 - 0.25 * random));
}

export async function runScript(text: string, options: RunScriptOptions): Promise<ScriptResult> {
  const { session, step, onEvent, signal } = options;
  const retry = options.retry ?? LOCK_RETRY;
  const all = await parseUnits(text);
  const firstPhased = all.findIndex((u) => u.phase !== undefined);
  // Part of the script (the backup step's phases) still runs under the script's session settings: its header's SETs
  // (statement_timeout, lock_timeout…), as under psql -f.
  const header = (u: (typeof all)[number], i: number) =>
    i < firstPhased && !u.meta && u.statements.length > 0 && u.statements.every((s) => /^\s*SET\s/i.test(s.text));
  const units = all.filter(
    (u, i) => !options.phases || (u.phase !== undefined ? options.phases.includes(u.phase) : header(u, i)),
  );
  const total = units.reduce((n, u) => n + Math.max(u.statements.length, 1), 0);
  const tracker = new ProgressTracker();
  const backfilled = new Map<string, number>();
  const runStart = new Map<string, number>();
  const stopNotices = session.onNotice((notice) => {
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
  });
  const cancel = () => {
    session.cancel().catch(logFailure(options.logger ?? silentLogger, 'Could not cancel the running statement'));
  };
  signal?.addEventListener('abort', cancel);
  let index = 0;
  try {
    for (const unit of units) {
      if (signal?.aborted)
        throw failed(
          'Cancelled before the next statement',
          'Run again to continue: the script resumes where it stopped.',
        );
      if (unit.meta) {
        onEvent({
          type: 'statement-started',
          step,
          index,
          total,
          line: unit.meta.line,
          phase: unit.phase,
          sql: unit.meta.text,
        });
        onEvent({ type: 'statement-finished', step, index, durationMs: 0, rows: null, outcome: 'skipped' });
        index++;
        continue;
      }
      // The statement that fails, in a unit of several (BEGIN; DO …; COMMIT): the one its error is about.
      const at = { statement: unit.statements[0]! };
      for (let attempt = 1; ; attempt++) {
        try {
          await runUnit(unit, index, total, options, at);
          break;
        } catch (error) {
          if (signal?.aborted) {
            throw failed(
              `Cancelled during the statement at line ${at.statement.line}; the server stopped it`,
              'Run again to continue: the script resumes where it stopped.',
            );
          }
          if (!isRetryable(error) || attempt >= retry.attempts) {
            if (isRetryable(error)) {
              throw failed(
                `Could not get a lock for the statement at line ${at.statement.line} after ${attempt} attempts: ${describePgError(error)}`,
                'Another session holds a conflicting lock: find it in pg_stat_activity / pg_locks, let it finish or stop it, then run again.',
              );
            }
            throw error instanceof MigrationError
              ? error
              : failed(
                  `The statement at line ${at.statement.line} failed: ${describePgError(error)}`,
                  'Fix the cause, then run again: the script is idempotent and resumes where it stopped.',
                  [redact(at.statement.text)],
                );
          }
          const waitMs = retryWaitMs(retry.firstWaitMs, attempt);
          onEvent({ type: 'retry', step, attempt, waitMs, reason: describePgError(error) });
          await auditAfterFailure(options, {
            step,
            statement: unit.statements.map((s) => s.text).join('\n'),
            outcome: 'retried',
            error: describePgError(error),
          });
          await sleep(waitMs, signal);
        }
      }
      index += unit.statements.length;
    }
  } finally {
    stopNotices();
    signal?.removeEventListener('abort', cancel);
  }
  return { statements: index, backfilled: [...backfilled].map(([table, rows]) => ({ table, rows })) };
}

async function runUnit(
  unit: ExecutionUnit,
  firstIndex: number,
  total: number,
  options: RunScriptOptions,
  at: { statement: ExecutionUnit['statements'][number] },
): Promise<number> {
  const { session, step, run, onEvent } = options;
  const inTransaction = unit.statements.length > 1;
  let rows = 0;
  const done: { text: string; durationMs: number; rows: number | null }[] = [];
  for (const [offset, statement] of unit.statements.entries()) {
    const index = firstIndex + offset;
    at.statement = statement;
    onEvent({
      type: 'statement-started',
      step,
      index,
      total,
      line: statement.line,
      phase: unit.phase,
      sql: redact(statement.text),
    });
    const started = performance.now();
    try {
      const result = await session.query(statement.text);
      const durationMs = Math.round(performance.now() - started);
      const affected = typeof result.rowCount === 'number' ? result.rowCount : null;
      rows += affected ?? 0;
      done.push({ text: statement.text, durationMs, rows: affected });
      onEvent({ type: 'statement-finished', step, index, durationMs, rows: affected, outcome: 'ok' });
    } catch (error) {
      const durationMs = Math.round(performance.now() - started);
      onEvent({
        type: 'statement-finished',
        step,
        index,
        durationMs,
        rows: null,
        outcome: 'error',
        error: describePgError(error),
      });
      // On a lost connection there is nothing to roll back: the server did.
      if (inTransaction)
        await session
          .query('ROLLBACK')
          .catch(
            logFailure(
              options.logger ?? silentLogger,
              "Could not roll back the failed statement's transaction",
              'debug',
            ),
          );
      await auditAfterFailure(options, {
        step,
        statement: statement.text,
        durationMs,
        outcome: 'error',
        error: describePgError(error),
      });
      throw error;
    }
  }
  for (const entry of done)
    await appendAudit(session, run, {
      step,
      statement: entry.text,
      durationMs: entry.durationMs,
      rows: entry.rows,
      outcome: 'ok',
    });
  return rows;
}
