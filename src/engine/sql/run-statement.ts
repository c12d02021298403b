// Runs one statement from an editor: read-only and rolled back by default; as a tenant (role and tenant context
// set, rolled back); written only when asked; always under a statement timeout; cancellable from outside. A write
// holds the migration's run lock (it never lands in the middle of a run) and goes to the audit log when the database
// has one, in the same transaction as the write.
import type { Session } from '../db/session';
import { quoteIdent, quoteLiteral } from '../db/sql';
import { loadParser } from '../script/parse';
import type { TenantContext } from '../spec/schema';
import { redact } from '../redact';
import { acquireRunLock, appendAudit, releaseRunLock, stateSchemaExists } from '../state';
import type { QueryOutcome } from './expectations';
import { runsOutsideTransaction } from './transaction-block';

export type RunMode = { readonly kind: 'read' } | { readonly kind: 'write' } | { readonly kind: 'explain' }
  | { readonly kind: 'tenant'; readonly org: string; readonly context: TenantContext; readonly role: string };

export interface StatementResult extends QueryOutcome {
  readonly command: string;
  readonly rowCount: number | null;
  readonly durationMs: number;
  readonly truncated: boolean;
}

export interface RunStatementOptions {
  readonly timeoutMs: number;
  readonly maxRows?: number;
}

function tenantSetup(mode: Extract<RunMode, { kind: 'tenant' }>): string[] {
  const claims = mode.context.kind === 'supabase-jwt'
    ? [`SELECT set_config('request.jwt.claims', ${quoteLiteral(JSON.stringify({ role: mode.role, [mode.context.claim]: mode.org }))}, true)`]
    : [`SELECT set_config(${quoteLiteral(mode.context.name)}, ${quoteLiteral(mode.org)}, true)`];
  return [`SET LOCAL ROLE ${quoteIdent(mode.role)}`, 'SET LOCAL row_security = on', ...claims];
}

export async function runStatement(session: Session, sql: string, mode: RunMode, options: RunStatementOptions): Promise<StatementResult> {
  if (mode.kind === 'write') return runWrite(session, sql, options);
  return inTransaction(session, sql, mode, options);
}

async function inTransaction(session: Session, sql: string, mode: RunMode, options: RunStatementOptions, beforeCommit?: (result: StatementResult) => Promise<void>): Promise<StatementResult> {
  await session.query(mode.kind === 'write' ? 'BEGIN' : 'BEGIN READ ONLY');
  let committed = false;
  try {
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
    throw new Error(redact((error as Error).message));
  } finally {
    if (!committed) await session.query('ROLLBACK').catch(() => undefined);
  }
}

async function runWrite(session: Session, sql: string, options: RunStatementOptions): Promise<StatementResult> {
  await acquireRunLock(session);
  const started = performance.now();
  let audited = false;
  try {
    audited = await stateSchemaExists(session);
    const audit = (result: StatementResult) => appendAudit(session, undefined, { step: 'sql-editor', statement: sql, durationMs: result.durationMs, rows: result.rowCount, outcome: 'ok' });
    const { parseSync } = await loadParser();
    let alone = false;
    try { alone = runsOutsideTransaction(parseSync(sql).stmts?.[0]?.stmt as Record<string, unknown> | undefined); } catch { /* PostgreSQL will say what is wrong with it */ }
    if (!alone) return await inTransaction(session, sql, { kind: 'write' }, options, audited ? audit : undefined);
    const result = await runAlone(session, sql, options);
    if (audited) await audit(result);
    return result;
  } catch (error) {
    if (audited) await appendAudit(session, undefined, { step: 'sql-editor', statement: sql, durationMs: Math.round(performance.now() - started), outcome: 'error', error: (error as Error).message }).catch(() => undefined);
    throw error;
  } finally {
    await releaseRunLock(session).catch(() => undefined);
  }
}

/** CREATE INDEX CONCURRENTLY, VACUUM …: in autocommit, with the timeout set for the session and reset after. */
async function runAlone(session: Session, sql: string, options: RunStatementOptions): Promise<StatementResult> {
  await session.query(`SET statement_timeout = ${timeout(options)}`);
  try {
    return await timed(session, sql, options);
  } catch (error) {
    throw new Error(redact((error as Error).message));
  } finally {
    await session.query('RESET statement_timeout').catch(() => undefined);
  }
}

const timeout = (options: RunStatementOptions) => Math.max(1, Math.round(options.timeoutMs));

async function timed(session: Session, text: string, options: RunStatementOptions): Promise<StatementResult> {
  const maxRows = options.maxRows ?? 500;
  const started = performance.now();
  const result = await session.query(text);
  const durationMs = Math.round(performance.now() - started);
  const fields = (result.fields ?? []).map((f) => f.name);
  const rows = (result.rows ?? []) as Record<string, unknown>[];
  return { command: result.command, rowCount: result.rowCount, durationMs, fields, rows: rows.slice(0, maxRows), truncated: rows.length > maxRows };
}
