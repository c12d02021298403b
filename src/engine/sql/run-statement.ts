// Runs one statement from an editor: read-only and rolled back by default; as a tenant (role and tenant context
// set, rolled back); written only when asked; always under a statement timeout; cancellable from outside.
import type { Session } from '../db/session';
import { quoteIdent, quoteLiteral } from '../db/sql';
import type { TenantContext } from '../spec/schema';
import { redact } from '../redact';
import type { QueryOutcome } from './expectations';

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
  const maxRows = options.maxRows ?? 500;
  const begin = mode.kind === 'write' ? 'BEGIN' : 'BEGIN READ ONLY';
  await session.query(begin);
  let committed = false;
  try {
    await session.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.round(options.timeoutMs))}`);
    if (mode.kind === 'tenant') for (const s of tenantSetup(mode)) await session.query(s);
    const text = mode.kind === 'explain' ? `EXPLAIN ${sql}` : sql;
    const started = performance.now();
    const result = await session.query(text);
    const durationMs = Math.round(performance.now() - started);
    const fields = (result.fields ?? []).map((f) => f.name);
    const rows = (result.rows ?? []) as Record<string, unknown>[];
    if (mode.kind === 'write') { await session.query('COMMIT'); committed = true; }
    return { command: result.command, rowCount: result.rowCount, durationMs, fields, rows: rows.slice(0, maxRows), truncated: rows.length > maxRows };
  } catch (error) {
    throw new Error(redact((error as Error).message));
  } finally {
    if (!committed) await session.query('ROLLBACK').catch(() => undefined);
  }
}
