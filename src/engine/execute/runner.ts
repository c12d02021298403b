// Runs a script statement by statement in autocommit, as psql does: notices become progress, lock timeouts are
// retried with backoff, a cancel stops the statement on the server, and every statement goes to the audit log.
import type { Session } from '../db/session';
import { MigrationError, failed } from '../errors';
import type { EventListener, StepId } from '../events';
import { PROGRESS_PREFIX } from '../names';
import { redact } from '../redact';
import { appendAudit, type RunRecord } from '../state';
import { statementClassifier } from '../script/classify';
import { splitScript } from '../script/parse';
import { executionUnits, type ExecutionUnit } from './units';
import { ProgressTracker } from './progress';

export interface RunScriptOptions {
  readonly session: Session;
  readonly step: StepId;
  readonly run?: RunRecord;
  readonly onEvent: EventListener;
  readonly signal?: AbortSignal;
  /** Only run units in these phases (script step markers); all when undefined. */
  readonly phases?: readonly string[];
  readonly retry?: { attempts: number; firstWaitMs: number };
}

export interface ScriptResult {
  readonly statements: number;
  /** Rows changed: counted by the statements themselves and by the backfill's progress notices. */
  readonly rows: number;
}

const RETRYABLE = new Set(['55P03', '40P01', '40001']); // lock_not_available, deadlock_detected, serialization_failure

export async function parseUnits(text: string): Promise<ExecutionUnit[]> {
  const items = await splitScript(text);
  const classify = await statementClassifier();
  return executionUnits(text, items, classify);
}

function describeError(error: unknown): string {
  const e = error as { message?: string; hint?: string; code?: string };
  return redact(`${e.message ?? String(error)}${e.hint ? ` (hint: ${e.hint})` : ''}`);
}

const sleep = (ms: number, signal?: AbortSignal) => new Promise<void>((resolve) => {
  const timer = setTimeout(resolve, ms);
  signal?.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
});

export async function runScript(text: string, options: RunScriptOptions): Promise<ScriptResult> {
  const { session, step, run, onEvent, signal } = options;
  const retry = options.retry ?? { attempts: 6, firstWaitMs: 250 };
  const all = await parseUnits(text);
  const firstPhased = all.findIndex((u) => u.phase !== undefined);
  // Part of the script (the backup step's phases) still runs under the script's session settings: its header's SETs
  // (statement_timeout, lock_timeout…), as under psql -f.
  const header = (u: (typeof all)[number], i: number) => i < firstPhased && !u.meta && u.statements.length > 0 && u.statements.every((s) => /^\s*SET\s/i.test(s.text));
  const units = all.filter((u, i) => !options.phases || (u.phase !== undefined ? options.phases.includes(u.phase) : header(u, i)));
  const total = units.reduce((n, u) => n + Math.max(u.statements.length, 1), 0);
  const tracker = new ProgressTracker();
  const backfilled = new Map<string, number>();
  const stopNotices = session.onNotice((notice) => {
    if (notice.message.startsWith(PROGRESS_PREFIX)) {
      const progress = tracker.update(JSON.parse(notice.message.slice(PROGRESS_PREFIX.length)));
      backfilled.set(progress.table, progress.rowsDone);
      onEvent({ type: 'progress', step, progress });
    } else {
      onEvent({ type: 'notice', step, message: redact(notice.message) });
    }
  });
  const cancel = () => { session.cancel().catch(() => undefined); };
  signal?.addEventListener('abort', cancel);
  let index = 0;
  let rows = 0;
  try {
    for (const unit of units) {
      if (signal?.aborted) throw failed('Cancelled before the next statement', 'Run again to continue: the script resumes where it stopped.');
      if (unit.meta) {
        onEvent({ type: 'statement-started', step, index, total, line: unit.meta.line, phase: unit.phase, sql: unit.meta.text });
        onEvent({ type: 'statement-finished', step, index, durationMs: 0, rows: null, outcome: 'skipped' });
        index++;
        continue;
      }
      for (let attempt = 1; ; attempt++) {
        try {
          rows += await runUnit(unit, index, total, options);
          break;
        } catch (error) {
          const code = (error as { code?: string }).code;
          if (signal?.aborted || code === '57014' && signal?.aborted) {
            throw failed(`Cancelled during the statement at line ${unit.statements[0]!.line}; the server stopped it`, 'Run again to continue: the script resumes where it stopped.');
          }
          if (!code || !RETRYABLE.has(code) || attempt >= retry.attempts) {
            if (code && RETRYABLE.has(code)) {
              throw failed(`Could not get a lock for the statement at line ${unit.statements[0]!.line} after ${attempt} attempts: ${describeError(error)}`,
                'Another session holds a conflicting lock: find it in pg_stat_activity / pg_locks, let it finish or stop it, then run again.');
            }
            throw error instanceof MigrationError ? error : failed(`The statement at line ${unit.statements[0]!.line} failed: ${describeError(error)}`,
              'Fix the cause, then run again: the script is idempotent and resumes where it stopped.', [redact(unit.statements[0]!.text)]);
          }
          const waitMs = retry.firstWaitMs * 2 ** (attempt - 1);
          onEvent({ type: 'retry', step, attempt, waitMs, reason: describeError(error) });
          await appendAudit(session, run, { step, statement: unit.statements.map((s) => s.text).join('\n'), outcome: 'retried', error: describeError(error) }).catch(() => undefined);
          await sleep(waitMs, signal);
        }
      }
      index += unit.statements.length;
    }
  } finally {
    stopNotices();
    signal?.removeEventListener('abort', cancel);
  }
  return { statements: index, rows: rows + [...backfilled.values()].reduce((a, b) => a + b, 0) };
}

async function runUnit(unit: ExecutionUnit, firstIndex: number, total: number, options: RunScriptOptions): Promise<number> {
  const { session, step, run, onEvent } = options;
  const inTransaction = unit.statements.length > 1;
  let rows = 0;
  const done: { text: string; durationMs: number; rows: number | null }[] = [];
  for (const [offset, statement] of unit.statements.entries()) {
    const index = firstIndex + offset;
    onEvent({ type: 'statement-started', step, index, total, line: statement.line, phase: unit.phase, sql: redact(statement.text) });
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
      onEvent({ type: 'statement-finished', step, index, durationMs, rows: null, outcome: 'error', error: describeError(error) });
      if (inTransaction) await session.query('ROLLBACK').catch(() => undefined);
      await appendAudit(session, run, { step, statement: statement.text, durationMs, outcome: 'error', error: describeError(error) }).catch(() => undefined);
      throw error;
    }
  }
  for (const entry of done) await appendAudit(session, run, { step, statement: entry.text, durationMs: entry.durationMs, rows: entry.rows, outcome: 'ok' });
  return rows;
}
