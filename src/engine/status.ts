// The checklist's truth from the database: the latest status of every step, manual items, backups, migration state.
import type { Session } from './db/session';
import { STEPS, type CheckResult, type StepStatus, type ChecklistStep } from './events';
import type { MigrationModel } from './model';
import { findTable } from './introspect';
import { names } from './names';
import { stateSchemaExists, lockHolder, type LockHolder } from './state';
import { currentEnforcement } from './enforce';

export interface StepState {
  readonly step: ChecklistStep;
  readonly status: StepStatus;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  readonly durationMs?: number;
  readonly rows?: number;
  readonly summary?: string;
  /** What to do next, recorded when the step failed or has failed checks. */
  readonly next?: string;
  readonly checks?: CheckResult[];
  /** Recorded before the latest rollback: what it did has been undone, so the step counts as pending again. */
  readonly undone?: boolean;
}

/** How far the backfill of one table got (also after a cancel or a crash: the next run resumes from here). */
export interface BackfillState {
  readonly table: string;
  readonly rowsDone: number;
  readonly pagesDone: number;
  readonly pagesTotal: number;
  readonly completed: boolean;
}

export interface StatusInfo {
  readonly database: string;
  /** Every table has its org column (NOT NULL) and row-level security on: transition mode at least. */
  readonly migrated: boolean;
  /** Requests without a tenant context are denied (the enforce step ran and was not undone). */
  readonly enforced: boolean;
  readonly tables: { table: string; hasOrgColumn: boolean; rlsEnabled: boolean; rlsForced: boolean }[];
  readonly steps: StepState[];
  readonly manualItems: { item: string; tickedBy: string; tickedAt: string }[];
  readonly lastRun?: {
    id: number;
    command: string;
    status: string;
    operator: string;
    startedAt: string;
    finishedAt?: string;
  };
  readonly lockHeldBy?: LockHolder;
  /** The latest completed rollback: steps recorded before it describe a migration that has been undone. */
  readonly lastRollback?: { readonly at: string; readonly summary?: string };
  /** The backfill's progress per table, while the migration is not complete. */
  readonly backfill: BackfillState[];
}

/** The steps whose outcome a rollback undoes (the checks before the migration still describe the legacy schema). */
const UNDONE_BY_ROLLBACK: ReadonlySet<ChecklistStep> = new Set(STEPS.slice(STEPS.indexOf('backup')));

/** One read-only transaction: one snapshot, and nothing it runs can write. */
export async function readStatus(session: Session, m: MigrationModel): Promise<StatusInfo> {
  return session.reading(() => readStatusReading(session, m));
}

async function readStatusReading(session: Session, m: MigrationModel): Promise<StatusInfo> {
  const tables = [];
  for (const t of m.tables) {
    const info = await findTable(session, t.name);
    tables.push({
      table: `${t.name.schema}.${t.name.name}`,
      hasOrgColumn: !!info?.columns.some((c) => c.name === m.orgColumn && c.notNull),
      rlsEnabled: !!info?.rlsEnabled,
      rlsForced: !!info?.rlsForced,
    });
  }
  const migrated = tables.every((t) => t.hasOrgColumn && t.rlsEnabled);
  const enforced = migrated && !!(await currentEnforcement(session));
  if (!(await stateSchemaExists(session))) {
    return {
      database: session.description,
      migrated,
      enforced,
      tables,
      steps: STEPS.map((step) => ({ step, status: 'pending' })),
      manualItems: [],
      backfill: [],
    };
  }
  const latest = await session.query<{
    step: ChecklistStep;
    status: StepStatus;
    started_at: Date;
    finished_at: Date | null;
    rows: string | null;
    summary: string | null;
    detail: { checks?: CheckResult[]; next?: string } | null;
  }>(
    `SELECT DISTINCT ON (step) step, status, started_at, finished_at, rows::text, summary, detail FROM ${names.state('steps')} ORDER BY step, started_at DESC`,
  );
  const rolledBack = await lastRollback(session);
  const steps = STEPS.map((step): StepState => {
    const row = latest.rows.find((r) => r.step === step);
    if (!row) return { step, status: 'pending' };
    const at = (row.finished_at ?? row.started_at).toISOString();
    if (rolledBack && at < rolledBack.at && UNDONE_BY_ROLLBACK.has(step))
      return { step, status: 'pending', undone: true, summary: `undone by the rollback of ${rolledBack.at}` };
    return {
      step,
      status: row.status,
      startedAt: row.started_at.toISOString(),
      finishedAt: row.finished_at?.toISOString(),
      durationMs: row.finished_at ? row.finished_at.getTime() - row.started_at.getTime() : undefined,
      rows: row.rows === null ? undefined : Number(row.rows),
      summary: row.summary ?? undefined,
      next: row.detail?.next ?? undefined,
      checks: row.detail?.checks ?? undefined,
    };
  });
  const manual = await session.query<{ item: string; ticked_by: string; ticked_at: Date }>(
    `SELECT item, ticked_by, ticked_at FROM ${names.state('manual_items')} ORDER BY ticked_at`,
  );
  const run = (
    await session.query<{
      id: string;
      command: string;
      status: string;
      operator: string;
      started_at: Date;
      finished_at: Date | null;
    }>(
      `SELECT id::text, command, status, operator, started_at, finished_at FROM ${names.state('runs')} ORDER BY id DESC LIMIT 1`,
    )
  ).rows[0];
  return {
    database: session.description,
    migrated,
    enforced,
    tables,
    steps,
    manualItems: manual.rows.map((r) => ({ item: r.item, tickedBy: r.ticked_by, tickedAt: r.ticked_at.toISOString() })),
    lastRun: run
      ? {
          id: Number(run.id),
          command: run.command,
          status: run.status,
          operator: run.operator,
          startedAt: run.started_at.toISOString(),
          finishedAt: run.finished_at?.toISOString(),
        }
      : undefined,
    lockHeldBy: await lockHolder(session),
    lastRollback: rolledBack,
    backfill: await backfillState(session),
  };
}

async function backfillState(session: Session): Promise<BackfillState[]> {
  if (!(await session.query(`SELECT to_regclass($1) IS NOT NULL AS ok`, [`${names.state('backfill')}`])).rows[0]!.ok)
    return [];
  const { rows } = await session.query<{
    table_schema: string;
    table_name: string;
    next_page: string;
    last_page: string;
    rows_done: string;
    completed_at: Date | null;
  }>(
    `SELECT table_schema, table_name, next_page::text, last_page::text, rows_done::text, completed_at FROM ${names.state('backfill')} ORDER BY table_schema, table_name`,
  );
  return rows.map((r) => ({
    table: `${r.table_schema}.${r.table_name}`,
    rowsDone: Number(r.rows_done),
    pagesDone: r.completed_at ? Number(r.last_page) + 1 : Math.min(Number(r.next_page), Number(r.last_page) + 1),
    pagesTotal: Number(r.last_page) + 1,
    completed: r.completed_at !== null,
  }));
}

async function lastRollback(session: Session): Promise<StatusInfo['lastRollback']> {
  const row = (
    await session.query<{ finished_at: Date; summary: string | null }>(
      `SELECT finished_at, summary FROM ${names.state('steps')} WHERE step = 'rollback' AND status = 'done' AND finished_at IS NOT NULL ORDER BY finished_at DESC LIMIT 1`,
    )
  ).rows[0];
  return row ? { at: row.finished_at.toISOString(), summary: row.summary ?? undefined } : undefined;
}
