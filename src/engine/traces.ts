// What a migration left in the database, read without writing anything (not even the state schema): so rollback,
// finalize and cleanup on a database with nothing of theirs to act on say so instead of reporting work they did not do.
import type { Session } from './db/session';
import { quoteQualified as qq } from './db/sql';
import { findTable } from './introspect';
import type { MigrationModel } from './model';
import { ASSIGN_TRIGGER, ISOLATION_POLICY, LEDGER_TRIGGER, MEMBER_POLICY, STATE_SCHEMA, names } from './names';
import { currentBackups } from './backups';
import { stateSchemaExists } from './state';
import type { StepId } from './events';

export interface MigrationTraces {
  readonly stateSchema: boolean;
  /** The migration's triggers, policies and ledger on the spec's tables, as "table: object". */
  readonly objects: string[];
  /** Tables that still have the trigger that assigns the org for applications that do not set it. */
  readonly assignTriggers: number;
  readonly currentBackups: number;
  /** Rows of the snapshot and backfill state a rollback clears. */
  readonly stateRows: number;
}

export async function findTraces(session: Session, m: MigrationModel): Promise<MigrationTraces> {
  const stateSchema = await stateSchemaExists(session);
  const objects: string[] = [];
  let assignTriggers = 0;
  for (const t of m.tables) {
    const { rows } = await session.query<{ name: string }>(
      `SELECT tgname AS name FROM pg_trigger WHERE tgrelid = $1::regclass AND tgname IN ($2, $3)
        UNION ALL SELECT polname FROM pg_policy WHERE polrelid = $1::regclass AND polname IN ($4, $5)`,
      [qq(t.name), ASSIGN_TRIGGER, LEDGER_TRIGGER, ISOLATION_POLICY, MEMBER_POLICY],
    );
    for (const r of rows) objects.push(`${qq(t.name)}: ${r.name}`);
    if (rows.some((r) => r.name === ASSIGN_TRIGGER)) assignTriggers++;
  }
  if (m.ledger && (await findTable(session, m.ledger.name))) objects.push(`${qq(m.ledger.name)}: ledger`);
  let stateRows = 0;
  if (stateSchema) {
    for (const table of ['snapshot', 'backfill']) {
      if (!(await session.query(`SELECT to_regclass($1) IS NOT NULL AS ok`, [`${STATE_SCHEMA}.${table}`])).rows[0]!.ok)
        continue;
      stateRows += Number(
        (await session.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${names.state(table)}`)).rows[0]!.n,
      );
    }
  }
  return { stateSchema, objects, assignTriggers, currentBackups: (await currentBackups(session)).length, stateRows };
}

/** Why there is nothing to roll back, or undefined when there is something. */
export function nothingToUndo(t: MigrationTraces): string | undefined {
  if (t.objects.length > 0 || t.currentBackups > 0 || t.stateRows > 0) return undefined;
  return t.stateSchema
    ? 'Nothing to undo: no trace of a migration (it was rolled back already, or never ran); nothing was changed'
    : 'Nothing to undo: this database was never migrated; nothing was changed';
}

export function nothingToFinalize(t: MigrationTraces): string | undefined {
  if (t.assignTriggers > 0) return undefined;
  return t.stateSchema && t.objects.length > 0
    ? 'Nothing to finalize: the help for applications that do not set the org is already off; nothing was changed'
    : 'Nothing to finalize: this database was not migrated; nothing was changed';
}

export function nothingToCleanUp(t: MigrationTraces): string | undefined {
  if (t.currentBackups > 0) return undefined;
  return t.stateSchema
    ? 'Nothing to clean up: no backups are kept (dropped already, or none taken); nothing was changed'
    : 'Nothing to clean up: this database was never migrated; nothing was changed';
}

/** The steps that first ask whether there is anything for them to do. */
export const NOTHING_TO_DO: Partial<Record<StepId, (t: MigrationTraces) => string | undefined>> = {
  rollback: nothingToUndo,
  finalize: nothingToFinalize,
  cleanup: nothingToCleanUp,
};
