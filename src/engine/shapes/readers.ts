// Views, materialized views and SECURITY DEFINER functions over the tenant tables: what each lets a tenant see
// once row-level security is on. Listed, not blocking: revoking them before isolation is enforced breaks the app.
import type { Session } from '../db/session';
import { displayName, quoteIdent as qi, quoteQualified as qq } from '../db/sql';
import { tenantRoleNames } from '../role-membership';
import { definerFunctionsReading } from './function-reads';
import { tableOids, type ShapeDetector, type ShapeFinding } from './finding';

/** The readers of a view that lack SELECT on a relation it reads: as security_invoker it reads them with their rights. */
async function missingBaseGrants(
  session: Session,
  view: number,
  readers: string[],
): Promise<{ role: string; relation: string }[]> {
  const { rows } = await session.query<{ role: string; relation: string }>(
    `SELECT g AS role, r.oid::regclass::text AS relation
       FROM unnest($2::text[]) AS g, pg_class r
      WHERE r.oid IN (SELECT d.refobjid FROM pg_rewrite rw JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = rw.oid
                       WHERE rw.ev_class = $1 AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> $1)
        AND r.relkind IN ('r', 'p', 'v', 'm', 'f')
        AND NOT has_any_column_privilege(CASE WHEN g = 'PUBLIC' THEN 'public' ELSE g END, r.oid, 'SELECT')
      ORDER BY 1, 2`,
    [view, readers],
  );
  return rows;
}

export const readers: ShapeDetector = async (session, model) => {
  const tenants = [...(await tenantRoleNames(session, model)), 'PUBLIC'];
  const version = Number(
    (await session.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`)).rows[0]!.v,
  );
  const { rows } = await session.query<{
    oid: number;
    schema: string;
    name: string;
    kind: string;
    invoker: boolean;
    owner: string;
    bypass: boolean;
    tables: string[];
    readers: string[];
  }>(
    `SELECT v.oid::int AS oid, n.nspname AS schema, v.relname AS name, v.relkind::text AS kind,
            coalesce(v.reloptions::text[] && ARRAY['security_invoker=true', 'security_invoker=on', 'security_invoker=1'], false) AS invoker,
            r.rolname AS owner, r.rolsuper OR r.rolbypassrls AS bypass,
            ARRAY(SELECT DISTINCT d2.refobjid::regclass::text FROM pg_depend d2 WHERE d2.classid = 'pg_rewrite'::regclass AND d2.objid = ANY(ARRAY(SELECT oid FROM pg_rewrite WHERE ev_class = v.oid)) AND d2.refobjid = ANY($1::oid[]) ORDER BY 1) AS tables,
            ARRAY(SELECT g FROM unnest($2::text[]) g WHERE (g = 'PUBLIC' AND has_table_privilege('public', v.oid, 'SELECT'))
                                                     OR (g <> 'PUBLIC' AND g <> r.rolname AND has_table_privilege(g, v.oid, 'SELECT'))) AS readers
       FROM pg_class v JOIN pg_namespace n ON n.oid = v.relnamespace JOIN pg_roles r ON r.oid = v.relowner
      WHERE v.relkind IN ('v', 'm') AND v.oid <> ALL($1::oid[])
        AND EXISTS (SELECT 1 FROM pg_rewrite rw JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = rw.oid WHERE rw.ev_class = v.oid AND d.refobjid = ANY($1::oid[]))
      ORDER BY 1, 2`,
    [tableOids(model), tenants],
  );
  const chosen = new Set(model.views.map((v) => displayName(v.name)));
  const findings: ShapeFinding[] = [];
  for (const v of rows) {
    const view = displayName({ schema: v.schema, name: v.name });
    const viewSql = qq({ schema: v.schema, name: v.name });
    const tables = v.tables.join(', ');
    const read = v.readers.length > 0;
    // What the tenant roles see through it: "the tenant roles that can read it (app_user) see …", or that none can.
    const who = (sees: string) =>
      read
        ? `the tenant roles that can read it (${v.readers.join(', ')}) see ${sees}`
        : `no tenant role (${tenants.join(', ')}) can read it now, so none sees ${sees}`;
    const revoke = read
      ? `REVOKE SELECT ON ${viewSql} FROM ${v.readers.map((r) => (r === 'PUBLIC' ? r : qi(r))).join(', ')};`
      : `grant no tenant role SELECT on ${viewSql}`;
    if (v.kind === 'm') {
      findings.push({
        kind: 'materialized-view',
        table: tables,
        object: view,
        blocking: false,
        message: `Materialized view ${view} holds a copy of every org's rows of ${tables}, outside row-level security: ${who('them all')}`,
        fix: `When isolation is enforced: ${revoke} (policies and security_invoker do not apply to a materialized view; expose it through a view with a WHERE on ${model.orgColumn}, if tenants need it).`,
      });
    } else if (chosen.has(view)) {
      const missing = await missingBaseGrants(session, v.oid, v.readers);
      findings.push({
        kind: 'view',
        table: tables,
        object: view,
        blocking: missing.length > 0,
        message:
          missing.length > 0
            ? `View ${view} is switched to security_invoker by the migration (spec "views"), but ${missing.map((g) => `${g.role} may read it and not ${g.relation}`).join('; ')}: it would get "permission denied" through the view`
            : `View ${view} is switched to security_invoker by the migration (spec "views"): it then reads ${tables} with the caller's rights, so each tenant sees only its org's rows (its readers ${v.readers.join(', ') || 'none'} have SELECT on its base tables); rollback puts its options back`,
        fix:
          missing.length > 0
            ? missing
                .map((g) => `GRANT SELECT ON ${g.relation} TO ${g.role === 'PUBLIC' ? 'PUBLIC' : qi(g.role)};`)
                .join(' ') + ' (the policies then hold each tenant to its org), or remove it from "views".'
            : undefined,
      });
    } else if (v.invoker) {
      findings.push({
        kind: 'view',
        table: tables,
        object: view,
        blocking: false,
        message: `View ${view} is security_invoker: it reads ${tables} with the caller's rights, so each tenant sees only its org's rows (tenant roles need SELECT on ${tables})`,
      });
    } else {
      const sees = v.bypass
        ? `its owner ${v.owner} bypasses row-level security, so ${who(`every org's rows of ${tables}`)}`
        : `row-level security applies as for its owner ${v.owner}, not as for the caller: ${who(`what ${v.owner}'s policies allow`)}`;
      findings.push({
        kind: 'view',
        table: tables,
        object: view,
        blocking: false,
        message: `View ${view} reads ${tables} with its owner's rights: ${sees}`,
        fix:
          version >= 150000
            ? `Let the migration switch it: "views": { "${view}": "security_invoker" } in the spec (tenant roles then need SELECT on ${tables}), or ALTER VIEW ${viewSql} SET (security_invoker = true); yourself, or when isolation is enforced: ${revoke}`
            : `PostgreSQL ${Math.floor(version / 10000)} has no security_invoker views: when isolation is enforced, ${revoke}`,
      });
    }
  }
  const keys = model.tables.map((t) => t.name);
  for (const f of await definerFunctionsReading(session, keys)) {
    findings.push({
      kind: 'function',
      table: f.reads.join(', '),
      object: f.signature,
      blocking: false,
      message: `SECURITY DEFINER function ${f.signature} reads ${f.reads.join(', ')} as ${f.owner}${f.ownerBypassesRls ? ", who bypasses row-level security: whoever may execute it can reach every org's rows" : ': row-level security applies as for its owner, not the caller'}`,
      fix: `Make it filter by the caller's org, or ALTER FUNCTION ${f.signature} SECURITY INVOKER; if it must not see other orgs.`,
    });
  }
  return findings;
};
