// One unit of the script on one session: its statements, their audit rows, and the retries of a lock timeout.
import type { Session } from '../db/session';
import { MigrationError, failed } from '../errors';
import { silentLogger } from '../events';
import { redact } from '../redact';
import { appendAudit, type AuditEntry } from '../state';
import { describePgError, isRetryable } from '../db/pg-errors';
import { logFailure } from '../log-failure';
import type { ExecutionUnit } from './units';
import type { RunScriptOptions } from './runner';

/**
 * A statement that timed out waiting for its lock is tried again after a wait that doubles (100 ms, 200 ms … 6.4 s:
 * about 13 s in all with the default 100-ms lock timeout, more beside another lane: see below), each shortened by up to a quarter at random so that two
 * runners, or a runner and an application retrying the same way, do not collide again in step.
 */
export const LOCK_RETRY = { attempts: 8, firstWaitMs: 100 };

/**
 * While another lane runs, a lock timeout may be the other lane's (a child's batches hold ACCESS SHARE on its parent
 * one batch at a time): those attempts wait at most 16 first waits (1.6 s by default) and do not use up the attempts,
 * up to BESIDE_LANE_ATTEMPTS of them (about 100 s), after which every attempt counts again.
 */
const BESIDE_LANE_MAX_WAIT_STEP = 5;
const BESIDE_LANE_ATTEMPTS = 64;

export function retryWaitMs(firstWaitMs: number, attempt: number, random = Math.random()): number {
  return Math.round(firstWaitMs * 2 ** (attempt - 1) * (1 - 0.25 * random));
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

/** Writes an audit row for a statement that failed or is retried; the statement's error is what the step reports. */
async function auditAfterFailure(session: Session, options: RunScriptOptions, entry: AuditEntry): Promise<void> {
  try {
    await appendAudit(session, options.run, entry);
  } catch (error) {
    options.onAuditFailure?.(
      `the audit row for the ${entry.outcome} statement "${redact(entry.statement).slice(0, 80)}" could not be written: ${describePgError(error)}`,
    );
  }
}

/**
 * Runs the unit (statement `firstIndex` of `total`) on `session`, retrying lock timeouts; throws what the step reports.
 * `besideOtherLane`: whether another session of the run is running a unit now.
 */
export async function runUnitRetrying(
  session: Session,
  unit: ExecutionUnit,
  firstIndex: number,
  total: number,
  options: RunScriptOptions,
  besideOtherLane?: () => boolean,
): Promise<void> {
  const { step, onEvent, signal } = options;
  const retry = options.retry ?? LOCK_RETRY;
  if (unit.meta) {
    onEvent({
      type: 'statement-started',
      step,
      index: firstIndex,
      total,
      line: unit.meta.line,
      phase: unit.phase,
      sql: unit.meta.text,
    });
    onEvent({ type: 'statement-finished', step, index: firstIndex, durationMs: 0, rows: null, outcome: 'skipped' });
    return;
  }
  // The statement that fails, in a unit of several (BEGIN; DO …; COMMIT): the one its error is about.
  const at = { statement: unit.statements[0]! };
  let counted = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      await runUnit(session, unit, firstIndex, total, options, at);
      return;
    } catch (error) {
      if (signal?.aborted) {
        throw failed(
          `Cancelled during the statement at line ${at.statement.line}; the server stopped it`,
          'Run again to continue: the script resumes where it stopped.',
        );
      }
      const besideLane =
        isRetryable(error) && attempt - counted <= BESIDE_LANE_ATTEMPTS && (besideOtherLane?.() ?? false);
      if (!besideLane) counted++;
      if (!isRetryable(error) || counted >= retry.attempts) {
        if (isRetryable(error)) {
          const beside = attempt - counted;
          throw failed(
            `Could not get a lock for the statement at line ${at.statement.line} after ${attempt} attempts${beside > 0 ? ` (${beside} of them while the run's other session was busy)` : ''}: ${describePgError(error)}`,
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
      const waitMs = retryWaitMs(
        retry.firstWaitMs,
        besideLane ? Math.min(attempt, BESIDE_LANE_MAX_WAIT_STEP) : counted,
      );
      onEvent({ type: 'retry', step, attempt, waitMs, reason: describePgError(error) });
      await auditAfterFailure(session, options, {
        step,
        statement: unit.statements.map((s) => s.text).join('\n'),
        outcome: 'retried',
        error: describePgError(error),
      });
      await sleep(waitMs, signal);
    }
  }
}

async function runUnit(
  session: Session,
  unit: ExecutionUnit,
  firstIndex: number,
  total: number,
  options: RunScriptOptions,
  at: { statement: ExecutionUnit['statements'][number] },
): Promise<void> {
  const { step, run, onEvent } = options;
  const inTransaction = unit.statements.length > 1;
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
      await auditAfterFailure(session, options, {
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
}
