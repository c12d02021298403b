// Shared tables (reference data every org reads) and the tables tenant roles can read that the spec does not
// place: neither migrated nor shared, every tenant reads all their rows.
import { displayName, quoteIdent, quoteQualified as qq } from '../db/sql';
import { STATE_SCHEMA } from '../names';
import { tenantRoleNames } from '../role-membership';
import type { ShapeDetector, ShapeFinding } from './finding';

export const sharedAndUnplaced: ShapeDetector = async (session, model) => {
  const tenants = await tenantRoleNames(session, model);
  const placed = [...model.tables.map((t) => t.info.oid), ...model.sharedTables.map((t) => t.oid)];
  const schemas = [...new Set(model.tables.map((t) => t.name.schema))];
  const { rows } = await session.query<{ oid: number; schema: string; name: string; rls: boolean; readers: string[] }>(
    `SELECT c.oid::int AS oid, n.nspname AS schema, c.relname AS name, c.relrowsecurity AS rls,
            ARRAY(SELECT g FROM unnest($3::text[]) g WHERE has_table_privilege(g, c.oid, 'SELECT')
                  UNION ALL SELECT 'PUBLIC' WHERE has_table_privilege('public', c.oid, 'SELECT')) AS readers
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname <> $4
        AND (c.oid = ANY($1::oid[]) AND c.oid = ANY($5::oid[]) OR n.nspname = ANY($2::text[]) AND c.oid <> ALL($1::oid[]))
      ORDER BY 2, 3`,
    [placed, schemas, tenants, STATE_SCHEMA, model.sharedTables.map((t) => t.oid)],
  );
  const ledger = model.ledger ? `${model.ledger.name.schema}.${model.ledger.name.name}` : undefined;
  const findings: ShapeFinding[] = [];
  for (const r of rows) {
    const table = displayName({ schema: r.schema, name: r.name });
    if (`${r.schema}.${r.name}` === ledger) continue;
    const readers = r.readers.join(', ');
    if (model.sharedTables.some((s) => s.oid === r.oid)) {
      findings.push({
        kind: 'shared-table',
        table,
        object: table,
        blocking: false,
        message:
          r.readers.length > 0
            ? `${table} is shared: not migrated, and every tenant (${readers}) reads all its rows${r.rls ? ' that its own row-level security policies allow' : ''}`
            : `${table} is shared, but no tenant role (${tenants.join(', ') || 'none reaches the tenant tables yet'}) can read it`,
        fix:
          r.readers.length > 0
            ? undefined
            : `GRANT SELECT ON ${qq({ schema: r.schema, name: r.name })} TO ${grantees(model, tenants)};`,
      });
    } else if (r.readers.length > 0 && !r.rls) {
      findings.push({
        kind: 'unplaced-table',
        table,
        object: table,
        blocking: false,
        message: `${table} is readable by ${readers} and is neither migrated nor shared: after the migration every tenant still reads all its rows`,
        fix: `Add it to "tables" (with its orgFrom) or to "sharedTables" if every org may read it, or REVOKE SELECT ON ${qq({ schema: r.schema, name: r.name })} FROM ${r.readers.join(', ')};`,
      });
    }
  }
  return findings;
};

/** Who a shared table is granted to: Supabase's signed-in role, else the application's tenant roles. */
function grantees(model: Parameters<ShapeDetector>[1], tenants: string[]): string {
  if (model.loaded.spec.tenantContext.kind === 'supabase-jwt' && tenants.includes('authenticated'))
    return 'authenticated';
  const own = tenants.filter((t) => t !== 'anon');
  return own.length > 0 ? own.map((t) => quoteIdent(t)).join(', ') : "<the application's role>";
}
