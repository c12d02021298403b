// The migration's state in the target database (schema tenant_migration): runs, steps, the audit log, manual items.
// So the checklist shows the database's truth after a restart and on another operator's machine.
import os from 'node:os';
import type { Session } from './db/session';
import { quoteIdent } from './db/sql';
import { refused } from './errors';
import { STATE_SCHEMA, names } from './names';
import { redact } from './redact';
import { lockDownStateSchema, refuseForeignStateSchema } from './script/sections/state';

const LOCK_KEY = 7_447_313_001; // one key for every Tenant Migration run on a database

export async function ensureStateSchema(session: Session): Promise<void> {
  await session.query(refuseForeignStateSchema()).catch((e: Error & { hint?: string }) => {
    throw e.message.startsWith('tenant-migration:')
      ? refused(e.message.replace(/^tenant-migration: /, ''), e.hint ?? 'See the message.')
      : e;
  });
  if (await stateSchemaExists(session)) return;
  const s = names.state;
  await session.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(STATE_SCHEMA)}`);
  await session.query(`REVOKE ALL ON SCHEMA ${quoteIdent(STATE_SCHEMA)} FROM PUBLIC`);
  await session.query(`CREATE TABLE IF NOT EXISTS ${s('runs')} (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    command text NOT NULL,
    operator text NOT NULL,
    host text NOT NULL,
    tool_version text NOT NULL,
    script_checksum text,
    status text NOT NULL DEFAULT 'running',
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz)`);
  await session.query(`CREATE TABLE IF NOT EXISTS ${s('steps')} (
    run_id bigint NOT NULL REFERENCES ${s('runs')} (id),
    step text NOT NULL,
    status text NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    rows bigint,
    summary text,
    detail jsonb,
    PRIMARY KEY (run_id, step))`);
  await session.query(`CREATE TABLE IF NOT EXISTS ${s('audit')} (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id bigint REFERENCES ${s('runs')} (id),
    at timestamptz NOT NULL DEFAULT now(),
    actor text NOT NULL,
    step text,
    statement text NOT NULL,
    duration_ms integer,
    rows bigint,
    outcome text NOT NULL,
    error text)`);
  await session.query(`CREATE TABLE IF NOT EXISTS ${s('manual_items')} (
    item text PRIMARY KEY,
    ticked_by text NOT NULL,
    ticked_at timestamptz NOT NULL DEFAULT now())`);
  // Append-only: nobody may change or delete audit rows, not even through the engine.
  await session.query(`CREATE OR REPLACE FUNCTION ${s('audit_append_only')}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'tenant_migration.audit is append-only'; END $$`);
  await session.query(`CREATE OR REPLACE TRIGGER audit_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON ${s('audit')}
    FOR EACH STATEMENT EXECUTE FUNCTION ${s('audit_append_only')}()`);
  await session.query(lockDownStateSchema());
}

export async function stateSchemaExists(session: Session): Promise<boolean> {
  const { rows } = await session.query(`SELECT to_regclass($1) IS NOT NULL AS present`, [`${STATE_SCHEMA}.runs`]);
  return rows[0]!.present as boolean;
}

export function operatorName(): string {
  try {
    return `${os.userInfo().username}@${os.hostname()}`;
  } catch {
    return `unknown@${os.hostname()}`;
  }
}

export interface LockHolder {
  readonly pid: number;
  readonly user: string;
  readonly application: string;
  readonly clientAddress: string | null;
  readonly since: Date;
  readonly operator?: string;
  readonly command?: string;
}

/**
 * Takes the run lock or refuses, naming who holds it and since when: for the session (a run), or for the current
 * transaction (one statement written from the SQL editor; it conflicts with a run's lock all the same).
 */
export async function acquireRunLock(session: Session, scope: 'session' | 'transaction' = 'session'): Promise<void> {
  const { rows } = await session.query(
    `SELECT ${scope === 'session' ? 'pg_try_advisory_lock' : 'pg_try_advisory_xact_lock'}($1::bigint) AS ok`,
    [LOCK_KEY],
  );
  if (rows[0]!.ok) return;
  const holder = await lockHolder(session);
  const who = holder
    ? `${holder.operator ?? holder.user} (${holder.application || 'unknown application'}, pid ${holder.pid}${holder.clientAddress ? `, from ${holder.clientAddress}` : ''}${holder.command ? `, running "${holder.command}"` : ''}) since ${holder.since.toISOString()}`
    : 'another session';
  throw refused(
    `Another migration run holds the lock on ${session.target.database}: ${who}`,
    'Wait for it to finish, or stop it (pg_terminate_backend on its pid releases the lock), then run again.',
  );
}

export async function lockHolder(session: Session): Promise<LockHolder | undefined> {
  const { rows } = await session.query<{
    pid: number;
    user: string;
    application: string;
    client: string | null;
    since: Date;
  }>(
    `SELECT a.pid, a.usename AS user, a.application_name AS application, a.client_addr::text AS client, a.backend_start AS since
       FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND ((l.classid::bigint << 32) | l.objid::bigint) = $1::bigint AND l.pid <> pg_backend_pid()
      LIMIT 1`,
    [LOCK_KEY],
  );
  const row = rows[0];
  if (!row) return undefined;
  let run: { operator: string; command: string; started_at: Date } | undefined;
  if (await stateSchemaExists(session)) {
    run = (
      await session.query<{ operator: string; command: string; started_at: Date }>(
        `SELECT operator, command, started_at FROM ${names.state('runs')} WHERE status = 'running' ORDER BY id DESC LIMIT 1`,
      )
    ).rows[0];
  }
  return {
    pid: row.pid,
    user: row.user,
    application: row.application,
    clientAddress: row.client,
    since: run?.started_at ?? row.since,
    operator: run?.operator,
    command: run?.command,
  };
}

export async function releaseRunLock(session: Session): Promise<void> {
  await session.query(`SELECT pg_advisory_unlock($1::bigint)`, [LOCK_KEY]);
}

export interface RunRecord {
  readonly id: number;
}

export async function startRun(
  session: Session,
  command: string,
  toolVersion: string,
  scriptChecksum?: string,
): Promise<RunRecord> {
  // Runs left "running" by a runner that died are closed: the lock proves nobody else is running.
  await session.query(
    `UPDATE ${names.state('runs')} SET status = 'interrupted', finished_at = now() WHERE status = 'running'`,
  );
  const { rows } = await session.query<{ id: string }>(
    `INSERT INTO ${names.state('runs')} (command, operator, host, tool_version, script_checksum) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
    [command, operatorName(), os.hostname(), toolVersion, scriptChecksum ?? null],
  );
  return { id: Number(rows[0]!.id) };
}

export async function finishRun(
  session: Session,
  run: RunRecord,
  status: 'succeeded' | 'failed' | 'cancelled',
): Promise<void> {
  await session.query(`UPDATE ${names.state('runs')} SET status = $2, finished_at = now() WHERE id = $1`, [
    run.id,
    status,
  ]);
}

export async function recordStep(
  session: Session,
  run: RunRecord,
  step: string,
  status: string,
  fields: { rows?: number; summary?: string; detail?: unknown; finished?: boolean } = {},
): Promise<void> {
  await session.query(
    `INSERT INTO ${names.state('steps')} (run_id, step, status, rows, summary, detail, finished_at)
     VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $7 THEN now() END)
     ON CONFLICT (run_id, step) DO UPDATE SET status = EXCLUDED.status, rows = EXCLUDED.rows, summary = EXCLUDED.summary,
       detail = EXCLUDED.detail, finished_at = EXCLUDED.finished_at`,
    [
      run.id,
      step,
      status,
      fields.rows ?? null,
      fields.summary ? redact(fields.summary) : null,
      fields.detail === undefined ? null : JSON.stringify(fields.detail),
      fields.finished ?? false,
    ],
  );
}

export interface AuditEntry {
  readonly step?: string;
  readonly statement: string;
  readonly durationMs?: number;
  readonly rows?: number | null;
  readonly outcome: 'ok' | 'error' | 'skipped' | 'cancelled' | 'retried';
  readonly error?: string;
}

export async function appendAudit(session: Session, run: RunRecord | undefined, entry: AuditEntry): Promise<void> {
  await session.query(
    `INSERT INTO ${names.state('audit')} (run_id, actor, step, statement, duration_ms, rows, outcome, error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      run?.id ?? null,
      operatorName(),
      entry.step ?? null,
      redact(entry.statement),
      entry.durationMs ?? null,
      entry.rows ?? null,
      entry.outcome,
      entry.error ? redact(entry.error) : null,
    ],
  );
}

export async function tickManualItem(session: Session, item: string): Promise<void> {
  await session.query(
    `INSERT INTO ${names.state('manual_items')} (item, ticked_by) VALUES ($1, $2)
    ON CONFLICT (item) DO UPDATE SET ticked_by = EXCLUDED.ticked_by, ticked_at = now()`,
    [item, operatorName()],
  );
  await appendAudit(session, undefined, {
    step: 'prerequisites',
    statement: `manual item ticked: ${item}`,
    outcome: 'ok',
  });
}
