// Runs one statement from an editor: read-only and rolled back by default; as a tenant (role and tenant context
// set, rolled back); written only when asked; always under a statement timeout; cancellable from outside. A write
// holds the migration's run lock (it never lands in the middle of a run) and goes to the audit log when the database
// has one, in the same transaction as the write.
import type { Session } from '../db/session';
import { quoteIdent, quoteLiteral } from '../db/sql';
import { MigrationError } from '../errors';
import { loadParser } from '../script/parse';
import type { TenantContext } from '../migration-spec/schema';
import { redact } from '../redact';
import { acquireRunLock, appendAudit, releaseRunLock, stateSchemaExists, type AuditEntry } from '../state';
import type { QueryOutcome } from './expectations';
import { runsOutsideTransaction } from './transaction-block';

export type RunMode =
  | { readonly kind: 'read' }
  | { readonly kind: 'write' }
  | { readonly kind: 'explain' }
  | { readonly kind: 'tenant'; readonly org: string; readonly context: TenantContext; readonly role: string };

export interface StatementResult extends QueryOutcome {
  readonly command: string;
  readonly rowCount: number | null;
  readonly durationMs: number;
  readonly truncated: boolean;
  /** Something the user should know although the statement succeeded. */
  readonly warning?: string;
}

export interface RunStatementOptions {
  readonly timeoutMs: number;
  readonly maxRows?: number;
}

function tenantSetup(mode: Extract<RunMode, { kind: 'tenant' }>): string[] {
  const claims =
    mode.context.kind === 'supabase-jwt'
      ? [
          `SELECT set_config('request.jwt.claims', ${quoteLiteral(JSON.stringify({ role: mode.role, [mode.context.claim]: mode.org }))}, true)`,
        ]
      : [`SELECT set_config(${quoteLiteral(mode.context.name)}, ${quoteLiteral(mode.org)}, true)`];
  return [`SET LOCAL ROLE ${quoteIdent(mode.role)}`, 'SET LOCAL row_security = on', ...claims];
}

export async function runStatement(
  session: Session,
  sql: string,
  mode: RunMode,
  options: RunStatementOptions,
): Promise<StatementResult> {
  if (mode.kind === 'write') return runWrite(session, sql, options);
  return inTransaction(session, sql, mode, options);
}

async function inTransaction(
  session: Session,
  sql: string,
  mode: RunMode,
  options: RunStatementOptions,
  beforeStatement?: () => Promise<void>,
  beforeCommit?: (result: StatementResult) => Promise<void>,
): Promise<StatementResult> {
  await session.query(mode.kind === 'write' ? 'BEGIN' : 'BEGIN READ ONLY');
  let committed = false;
  try {
    await beforeStatement?.();
    await session.query(`SET LOCAL statement_timeout = ${timeout(options)}`);
    if (mode.kind === 'tenant') for (const s of tenantSetup(mode)) await session.query(s);
    const result = await timed(session, mode.kind === 'explain' ? `EXPLAIN ${sql}` : sql, options);
    if (mode.kind === 'write') {
      await beforeCommit?.(result);
      await session.query('COMMIT');
      committed = true;
    }
    return result;
  } catch (error) {
    throw withoutSecrets(error);
  } finally {
    // A session whose transaction cannot be ended is not reused: closing it is what ends the transaction then.
    if (!committed) await session.query('ROLLBACK').catch(() => session.close());
  }
}

/**
 * A write holds the run lock while it runs: for the transaction (released by COMMIT or ROLLBACK, whatever happens to
 * the session), or for the session around a statement that runs outside a transaction.
 */
async function runWrite(session: Session, sql: string, options: RunStatementOptions): Promise<StatementResult> {
  const audited = await stateSchemaExists(session);
  const audit = (entry: Omit<AuditEntry, 'step' | 'statement'>) =>
    appendAudit(session, undefined, { step: 'sql-editor', statement: sql, ...entry });
  const started = performance.now();
  if (!(await outsideTransaction(sql))) {
    try {
      return await inTransaction(
        session,
        sql,
        { kind: 'write' },
        options,
        () => acquireRunLock(session, 'transaction'),
        audited
          ? (result) => audit({ durationMs: result.durationMs, rows: result.rowCount, outcome: 'ok' })
          : undefined,
      );
    } catch (error) {
      if (audited && !isRefusal(error))
        await auditFailure(error, () =>
          audit({
            durationMs: Math.round(performance.now() - started),
            outcome: 'error',
            error: (error as Error).message,
          }),
        );
      throw error;
    }
  }
  await acquireRunLock(session);
  let result: StatementResult;
  try {
    result = await runAlone(session, sql, options);
  } catch (error) {
    if (audited)
      await auditFailure(error, () =>
        audit({
          durationMs: Math.round(performance.now() - started),
          outcome: 'error',
          error: (error as Error).message,
        }),
      );
    throw error;
  } finally {
    // An unlock that fails leaves the lock with the session: closing it is what releases it then.
    await releaseRunLock(session).catch(() => session.close());
  }
  // The statement is done and cannot be undone: an audit that fails is told, not turned into a failure.
  if (audited)
    await audit({ durationMs: result.durationMs, rows: result.rowCount, outcome: 'ok' }).catch((error: unknown) => {
      result = { ...result, warning: `Not written to the audit log: ${withoutSecrets(error).message}` };
    });
  return result;
}

/** Audits a statement that failed; when the audit row cannot be written either, the statement's error says so. */
async function auditFailure(error: unknown, audit: () => Promise<void>): Promise<void> {
  try {
    await audit();
  } catch (auditError) {
    const note = ` (and the failure could not be written to the audit log: ${withoutSecrets(auditError).message})`;
    throw error instanceof MigrationError
      ? new MigrationError(error.kind, `${error.message}${note}`, error.next, error.details)
      : new Error(`${withoutSecrets(error).message}${note}`);
  }
}

async function outsideTransaction(sql: string): Promise<boolean> {
  const { parseSync } = await loadParser();
  try {
    return runsOutsideTransaction(parseSync(sql).stmts?.[0]?.stmt as Record<string, unknown> | undefined);
  } catch {
    return false; // PostgreSQL will say what is wrong with it
  }
}

/** CREATE INDEX CONCURRENTLY, VACUUM …: in autocommit, with the timeout set for the session and reset after. */
async function runAlone(session: Session, sql: string, options: RunStatementOptions): Promise<StatementResult> {
  await session.query(`SET statement_timeout = ${timeout(options)}`);
  try {
    return await timed(session, sql, options);
  } catch (error) {
    throw withoutSecrets(error);
  } finally {
    // A session left with this statement's timeout is not reused.
    await session.query('RESET statement_timeout').catch(() => session.close());
  }
}

/** PostgreSQL's errors can quote a statement's values: redacted. The engine's own (the lock's refusal) pass as they are. */
const withoutSecrets = (error: unknown) =>
  error instanceof MigrationError ? error : new Error(redact((error as Error).message));
const isRefusal = (error: unknown) => error instanceof MigrationError && error.kind === 'refused';

const timeout = (options: RunStatementOptions) => Math.max(1, Math.round(options.timeoutMs));

async function timed(session: Session, text: string, options: RunStatementOptions): Promise<StatementResult> {
  const maxRows = options.maxRows ?? 500;
  const started = performance.now();
  const result = await session.query(text);
  const durationMs = Math.round(performance.now() - started);
  const fields = (result.fields ?? []).map((f) => f.name);
  const rows = (result.rows ?? []) as Record<string, unknown>[];
  return {
    command: result.command,
    rowCount: result.rowCount,
    durationMs,
    fields,
    rows: rows.slice(0, maxRows),
    truncated: rows.length > maxRows,
  };
}
