// Rollback of the spec's per-object choices, from what the migration recorded before it made them: each view's
// options exactly as they were, each unique constraint or index with its name, definition, deferrability and options.
import type { Session } from './db/session';
import { SQLSTATE, hasSqlState } from './db/pg-errors';
import { displayName, quoteIdent as qi, quoteLiteral as ql, quoteQualified as qq } from './db/sql';
import { refused } from './errors';
import { STATE_SCHEMA, names } from './names';

type Exec = (sql: string) => Promise<void>;

const stateTableExists = async (session: Session, name: string) =>
  (await session.query<{ ok: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS ok`, [`${STATE_SCHEMA}.${name}`]))
    .rows[0]!.ok;

/** `key=value` reloptions as the list ALTER … SET takes. */
const optionList = (options: readonly string[]) =>
  options
    .map((o) => {
      const at = o.indexOf('=');
      return `${qi(o.slice(0, at))} = ${ql(o.slice(at + 1))}`;
    })
    .join(', ');
const optionKeys = (options: readonly string[]) => options.map((o) => qi(o.slice(0, o.indexOf('=')))).join(', ');

async function undoViews(session: Session, exec: Exec): Promise<void> {
  const { rows } = await session.query<{
    view_schema: string;
    view_name: string;
    before: string[] | null;
    now: string[] | null;
    present: boolean;
  }>(
    `SELECT s.view_schema, s.view_name, s.reloptions AS before, c.reloptions AS now, c.oid IS NOT NULL AS present
       FROM ${names.state('view_options')} s LEFT JOIN pg_class c ON c.oid = to_regclass(format('%I.%I', s.view_schema, s.view_name)) AND c.relkind = 'v'
      ORDER BY 1, 2`,
  );
  for (const r of rows) {
    const before = r.before ?? [];
    const now = r.now ?? [];
    // A view dropped since has nothing to give back; one as it was is left alone.
    if (!r.present || JSON.stringify(before) === JSON.stringify(now)) continue;
    const view = qq({ schema: r.view_schema, name: r.view_name });
    if (now.length > 0) await exec(`ALTER VIEW ${view} RESET (${optionKeys(now)})`);
    if (before.length > 0) await exec(`ALTER VIEW ${view} SET (${optionList(before)})`);
  }
  await session.query(`DELETE FROM ${names.state('view_options')}`);
}

interface UniqueRecord {
  index_schema: string;
  index_name: string;
  table_schema: string;
  table_name: string;
  per_org_name: string;
  is_constraint: boolean;
  constraint_def: string | null;
  index_def: string;
  index_options: string[] | null;
  original_present: boolean;
}

async function undoUniques(session: Session, exec: Exec): Promise<void> {
  const { rows } = await session.query<UniqueRecord>(
    `SELECT s.*, to_regclass(format('%I.%I', s.index_schema, s.index_name)) IS NOT NULL AS original_present FROM ${names.state('unique_choices')} s ORDER BY 1, 2`,
  );
  for (const r of rows) {
    const table = qq({ schema: r.table_schema, name: r.table_name });
    const perOrg = { schema: r.index_schema, name: r.per_org_name };
    await exec(`ALTER TABLE ${table} DROP CONSTRAINT IF EXISTS ${qi(r.per_org_name)}`);
    await exec(`DROP INDEX IF EXISTS ${qq(perOrg)}`);
    if (r.original_present) continue;
    const original = displayName({ schema: r.index_schema, name: r.index_name });
    await session.query('SAVEPOINT restore_unique');
    try {
      if (r.is_constraint) {
        await exec(`ALTER TABLE ${table} ADD CONSTRAINT ${qi(r.index_name)} ${r.constraint_def}`);
        if (r.index_options?.length)
          await exec(
            `ALTER INDEX ${qq({ schema: r.index_schema, name: r.index_name })} SET (${optionList(r.index_options)})`,
          );
      } else {
        await exec(r.index_def);
      }
      await session.query('RELEASE SAVEPOINT restore_unique');
    } catch (e) {
      await session.query('ROLLBACK TO SAVEPOINT restore_unique');
      if (!hasSqlState(e, SQLSTATE.uniqueViolation)) throw e;
      throw refused(
        `Cannot put back ${r.is_constraint ? 'the UNIQUE constraint' : 'the unique index'} ${original} on ${displayName({ schema: r.table_schema, name: r.table_name })}: rows of different orgs now share a value it forbids (${(e as { detail?: string }).detail ?? (e as Error).message})`,
        'Nothing was changed. Change or delete the rows that share the value (only one org may keep it), then roll back again.',
      );
    }
  }
  await session.query(`DELETE FROM ${names.state('unique_choices')}`);
}

/** Runs before the org column is dropped (the per-org constraints and indexes hold it). */
export async function undoChoices(session: Session, exec: Exec): Promise<void> {
  if (await stateTableExists(session, 'view_options')) await undoViews(session, exec);
  if (await stateTableExists(session, 'unique_choices')) await undoUniques(session, exec);
}
