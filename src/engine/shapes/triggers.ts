// Triggers set ENABLE ALWAYS or ENABLE REPLICA fire even under session_replication_role = replica, which the
// backfill relies on so that it changes nothing but the org column: an updated_at trigger would rewrite every row.
import { displayName, quoteIdent as qi, quoteQualified as qq } from '../db/sql';
import { column } from '../introspect';
import { ASSIGN_TRIGGER, LEDGER_TRIGGER } from '../names';
import { byOid, tableOids, type ShapeDetector } from './finding';

const TRIGGER_TYPE_UPDATE = 16;

export const replicaTriggers: ShapeDetector = async (session, model) => {
  const { rows } = await session.query<{ oid: number; name: string; enabled: string; columns: string[] }>(
    `SELECT t.tgrelid::int AS oid, t.tgname AS name, t.tgenabled::text AS enabled,
            ARRAY(SELECT a.attname::text FROM unnest(t.tgattr::int2[]) k JOIN pg_attribute a ON a.attrelid = t.tgrelid AND a.attnum = k) AS columns
       FROM pg_trigger t
      WHERE t.tgrelid = ANY($1::oid[]) AND NOT t.tgisinternal AND t.tgenabled IN ('A', 'R')
        AND t.tgtype & ${TRIGGER_TYPE_UPDATE} <> 0 AND t.tgname NOT IN ($2, $3)
      ORDER BY 1, 2`,
    [tableOids(model), ASSIGN_TRIGGER, LEDGER_TRIGGER],
  );
  return rows.flatMap((r) => {
    const t = byOid(model, r.oid);
    // An UPDATE OF trigger that does not list the org column does not fire for the backfill; nor does any once the
    // column is NOT NULL (nothing is left to backfill).
    if (r.columns.length > 0 && !r.columns.includes(model.orgColumn)) return [];
    if (column(t.info, model.orgColumn)?.notNull) return [];
    const table = displayName(t.name);
    const mode = r.enabled === 'A' ? 'ENABLE ALWAYS' : 'ENABLE REPLICA';
    const restore = `ALTER TABLE ${qq(t.name)} ${mode} TRIGGER ${qi(r.name)};`;
    // ALWAYS → an ordinary trigger: still fires for the application. REPLICA fires only in replica-mode sessions,
    // never for the application: disabling it for the migration changes nothing the application sees.
    const during =
      r.enabled === 'A'
        ? `ALTER TABLE ${qq(t.name)} ENABLE TRIGGER ${qi(r.name)}; (it keeps firing for the application, but not in replica-mode sessions such as logical-replication apply workers)`
        : `ALTER TABLE ${qq(t.name)} DISABLE TRIGGER ${qi(r.name)}; (it never fires for the application anyway, only in replica-mode sessions such as logical-replication apply workers)`;
    return [
      {
        kind: 'trigger-fires-in-replica' as const,
        table,
        object: `trigger ${r.name} on ${table}`,
        blocking: true,
        message: `Trigger ${r.name} on ${table} is set ${mode}: it fires even in the replica mode the backfill runs in, so it would run for every row the backfill updates (an updated_at trigger rewrites them all)`,
        fix: `For the migration: ${during}. After "migrate", set it back: ${restore}`,
      },
    ];
  });
};
