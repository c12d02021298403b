// Step 5b: enforce isolation. Until now the migration runs in transition mode (a request without a tenant context
// keeps its pre-migration access); enforcing makes such requests see nothing, turns FORCE on (the owner is held too)
// and keeps views that read tenant tables with their owner's rights from tenant roles. Undoable on its own.
import type { Session } from './db/session';
import { displayName, quoteIdent as qi, quoteLiteral as ql } from './db/sql';
import { doBlock, revokeFromOthers } from './script/sections/common';
import { refused } from './errors';
import type { CheckResult } from './events';
import type { MigrationModel } from './model';
import { HOOK_RUNS_TABLE, HOOK_SCHEMA, ISOLATION_POLICY, names } from './names';
import { membershipBypasses } from './role-membership';
import { accessRoles, definerFunctions, tenantRoles } from './roles';
import { ENFORCEMENT_TABLE, KNOWN_ORG_COLUMN, KNOWN_ORGS_TABLE } from './script/isolation-policy';
import { isolationStatements } from './script/sections/enforce';
import { rlsTablesOf } from './script/sections/partitions';
import { operatorName } from './state';
import { plural } from '../shared/format';

export interface EnforceOptions {
  /** The operator's confirmation that the application sends the tenant context with every request. */
  readonly appSendsContext?: boolean;
  readonly now?: Date;
}

interface ViewGrant {
  readonly view: string;
  readonly role: string;
}

export { ENFORCEMENT_TABLE };

/** Readable by its owner only, whatever the default privileges grant. */
const ensureTable = (session: Session) =>
  session.query(
    doBlock(
      `  IF to_regclass(${ql(ENFORCEMENT_TABLE)}) IS NULL THEN
    CREATE TABLE ${ENFORCEMENT_TABLE} (id bigserial PRIMARY KEY, enforced_at timestamptz NOT NULL DEFAULT now(), enforced_by text NOT NULL,
      undone_at timestamptz, undone_by text, revoked_view_grants jsonb NOT NULL DEFAULT '[]');
    ${revokeFromOthers('TABLE', ql(ENFORCEMENT_TABLE))}
    ${revokeFromOthers('TABLE', ql(names.state('enforcement_id_seq')))}
  END IF;`,
      ['grantee oid'],
    ),
  );

const exists = async (session: Session, relation: string) =>
  (await session.query(`SELECT to_regclass($1) IS NOT NULL AS ok`, [relation])).rows[0]!.ok as boolean;

/** The current enforcement, if any (not undone). */
export async function currentEnforcement(
  session: Session,
): Promise<{ id: number; enforcedAt: Date; revoked: ViewGrant[] } | undefined> {
  if (!(await exists(session, 'tenant_migration.enforcement'))) return undefined;
  const { rows } = await session.query<{ id: string; enforced_at: Date; revoked_view_grants: ViewGrant[] }>(
    `SELECT id, enforced_at, revoked_view_grants FROM ${ENFORCEMENT_TABLE} WHERE undone_at IS NULL ORDER BY id DESC LIMIT 1`,
  );
  return rows[0] && { id: Number(rows[0].id), enforcedAt: rows[0].enforced_at, revoked: rows[0].revoked_view_grants };
}

/** SELECT grants of tenant roles (and PUBLIC) on views and materialized views that read tenant tables with their owner's rights. */
async function ownerRightsViewGrants(session: Session, m: MigrationModel, exempt: string[]): Promise<ViewGrant[]> {
  const { rows } = await session.query<ViewGrant>(
    `SELECT DISTINCT v.oid::regclass::text AS view, CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee)::text END AS role
       FROM pg_depend d JOIN pg_rewrite rw ON rw.oid = d.objid JOIN pg_class v ON v.oid = rw.ev_class, aclexplode(v.relacl) a
      WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = ANY($1::oid[]) AND v.relkind IN ('v', 'm') AND v.oid <> ALL($1::oid[])
        AND a.privilege_type = 'SELECT' AND a.grantee <> v.relowner
        AND NOT (v.relkind = 'v' AND coalesce(v.reloptions::text[] && ARRAY['security_invoker=true', 'security_invoker=on', 'security_invoker=1'], false))
        AND (a.grantee = 0 OR NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.oid = a.grantee AND (r.rolsuper OR r.rolbypassrls OR r.rolname = ANY($2::text[]))))
      ORDER BY 1, 2`,
    [m.tables.map((t) => t.info.oid), exempt],
  );
  return rows;
}

export interface EnforcePreview {
  /** What enforcing will deny, and what stands in its way. */
  readonly checks: CheckResult[];
  readonly refusals: string[];
  readonly viewGrants: ViewGrant[];
}

export async function previewEnforce(
  session: Session,
  m: MigrationModel,
  options: EnforceOptions,
): Promise<EnforcePreview> {
  const checks: CheckResult[] = [];
  const refusals: string[] = [];
  const missing = [];
  for (const t of m.tables) {
    const { rows } = await session.query(`SELECT 1 FROM pg_policy WHERE polrelid = $1 AND polname = $2`, [
      t.info.oid,
      ISOLATION_POLICY,
    ]);
    if (rows.length === 0) missing.push(displayName(t.name));
  }
  if (missing.length)
    refusals.push(`not migrated yet (no isolation policy on ${missing.join(', ')}): run "migrate" first`);
  const roles = await accessRoles(session, m);
  const held = tenantRoles(roles);
  for (const t of m.tables) {
    checks.push({
      name: `${displayName(t.name)}: requests without a tenant context`,
      ok: true,
      severity: 'warning',
      detail:
        `will see none of its ~${plural(t.info.estimatedRows, 'row')} and write none (roles ${held.map((r) => r.role).join(', ') || 'PUBLIC'}); with a context, only their org's` +
        (t.info.owner && !roles.find((r) => r.role === t.info.owner)?.bypassesRls
          ? `; FORCE: its owner ${t.info.owner} is held the same way`
          : ''),
    });
  }
  const cross = roles.filter((r) => r.crossTenant || r.bypassesRls).map((r) => r.role);
  const viewGrants = await ownerRightsViewGrants(session, m, cross);
  for (const g of viewGrants)
    checks.push({
      name: `View ${g.view}`,
      ok: true,
      severity: 'warning',
      detail: `reads tenant tables with its owner's rights: SELECT revoked from ${g.role} (ALTER VIEW … SET (security_invoker = true) to keep it usable)`,
    });
  if (await exists(session, 'tenant_migration.transition_orgs')) {
    const { rows } = await session.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${qi(m.orgs.name.schema)}.${qi(m.orgs.name.name)} o WHERE NOT EXISTS (SELECT 1 FROM ${KNOWN_ORGS_TABLE} k WHERE k.${KNOWN_ORG_COLUMN} = o.${qi(m.orgs.idColumn)})`,
    );
    const n = Number(rows[0]!.n);
    if (n > 0)
      checks.push({
        name: 'Orgs created since the migration',
        ok: true,
        severity: 'warning',
        detail: `${plural(n, 'org')}: their rows were already hidden from requests without a tenant context`,
      });
  }
  for (const f of await definerFunctions(session, m)) {
    if (f.ownerReadsAcross && f.callableBy.length > 0) {
      refusals.push(
        `SECURITY DEFINER function ${f.fn} reads tenant tables as ${f.owner}, which is not held to an org, and ${f.callableBy.join(', ')} may call it: make it SECURITY INVOKER, filter by the tenant context inside it, or REVOKE EXECUTE from those roles`,
      );
    }
  }
  for (const b of await membershipBypasses(session, m)) refusals.push(`${b.message}: ${b.fix}`);
  const hook = m.loaded.spec.authHook;
  if (hook) {
    const first = (await exists(session, `${HOOK_SCHEMA}.hook_runs`))
      ? (await session.query<{ at: Date }>(`SELECT min(first_run_at) AS at FROM ${HOOK_RUNS_TABLE}`)).rows[0]?.at
      : undefined;
    const now = options.now ?? new Date();
    if (!first)
      refusals.push(
        `the Custom Access Token Hook ${hook.function} has not run yet: switch it on in Supabase (Authentication → Hooks), then wait until tokens issued before it expire (${hook.jwtExpirySeconds} s)`,
      );
    else if (now.getTime() < first.getTime() + hook.jwtExpirySeconds * 1000) {
      refusals.push(
        `tokens issued before the auth hook first ran (${first.toISOString()}) may still be valid until ${new Date(first.getTime() + hook.jwtExpirySeconds * 1000).toISOString()}: run enforce after that`,
      );
    }
  }
  if (!options.appSendsContext) {
    refusals.push(
      `not confirmed that the application sends the tenant context with every request (${contextAdvice(m)}): confirm with --app-sends-context`,
    );
  }
  return { checks, refusals, viewGrants };
}

export function contextAdvice(m: MigrationModel): string {
  const c = m.loaded.spec.tenantContext;
  return c.kind === 'supabase-jwt'
    ? `every request's JWT carries the "${c.claim}" claim${m.loaded.spec.authHook ? ' (from the generated auth hook)' : ''}`
    : `every transaction runs SET LOCAL ${c.name} = '<org id>' (or set_config('${c.name}', …, true)); a session-level SET leaks into the next request on a pooled connection`;
}

export async function enforce(
  session: Session,
  m: MigrationModel,
  options: EnforceOptions,
): Promise<{ actions: string[]; preview: EnforcePreview }> {
  const preview = await previewEnforce(session, m, options);
  if (preview.refusals.length > 0) {
    throw refused(
      `Isolation not enforced: ${preview.refusals[0]}${preview.refusals.length > 1 ? ` (and ${preview.refusals.length - 1} more)` : ''}`,
      'Fix what is named, then run "enforce" again; nothing was changed. Transition mode stays: requests without a tenant context keep their access.',
      [...preview.refusals, ...preview.checks.map((c) => `${c.name}: ${c.detail}`)],
    );
  }
  const actions: string[] = [];
  await session.transaction(async () => {
    await session.query(`SET LOCAL lock_timeout = '${m.loaded.spec.lockTimeoutMs * 5}ms'`);
    await ensureTable(session);
    if (await currentEnforcement(session)) return;
    for (const sql of isolationStatements(m, 'enforced', () => true)) {
      await session.query(sql);
      actions.push(sql);
    }
    for (const g of preview.viewGrants) {
      const sql = `REVOKE SELECT ON ${g.view} FROM ${g.role === 'PUBLIC' ? 'PUBLIC' : qi(g.role)}`;
      await session.query(sql);
      actions.push(sql);
    }
    await session.query(`INSERT INTO ${ENFORCEMENT_TABLE} (enforced_by, revoked_view_grants) VALUES ($1, $2)`, [
      operatorName(),
      JSON.stringify(preview.viewGrants),
    ]);
  });
  return { actions, preview };
}

/**
 * On a database where isolation is enforced already: the tables and partitions that are not (a partition added and
 * migrated by an older script, say) get the enforced policy and FORCE. Refuses, naming them, those not migrated yet.
 */
export async function enforceRemaining(
  session: Session,
  m: MigrationModel,
): Promise<{ actions: string[]; tables: string[] }> {
  const targets = m.tables.flatMap(rlsTablesOf);
  const { rows } = await session.query<{ name: string; schema: string; table: string; migrated: boolean }>(
    `SELECT c.oid::regclass::text AS name, n.nspname AS schema, c.relname AS table,
            EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = $3) AS migrated
       FROM unnest($1::text[], $2::text[]) AS t(s, r) JOIN pg_namespace n ON n.nspname = t.s JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = t.r
      WHERE NOT c.relforcerowsecurity OR NOT c.relrowsecurity
      ORDER BY 1`,
    [targets.map((t) => t.schema), targets.map((t) => t.name), ISOLATION_POLICY],
  );
  const unmigrated = rows.filter((r) => !r.migrated).map((r) => r.name);
  if (unmigrated.length > 0) {
    throw refused(
      `Isolation is enforced, but ${unmigrated.join(', ')} ${unmigrated.length === 1 ? 'is' : 'are'} not migrated yet (no isolation policy)`,
      'Generate the script again (tenant-migrate generate --force), run "migrate": on an enforced database it enforces what it migrates. Nothing was changed.',
    );
  }
  const pending = new Set(rows.map((r) => `${r.schema}.${r.table}`));
  const actions: string[] = [];
  if (pending.size === 0) return { actions, tables: [] };
  await session.transaction(async () => {
    await session.query(`SET LOCAL lock_timeout = '${m.loaded.spec.lockTimeoutMs * 5}ms'`);
    for (const sql of isolationStatements(
      m,
      'enforced',
      () => true,
      (t) => pending.has(`${t.schema}.${t.name}`),
    )) {
      await session.query(sql);
      actions.push(sql);
    }
  });
  return { actions, tables: rows.map((r) => r.name) };
}

/** Back to transition mode; the grants enforce revoked are given back. Used by "enforce --undo" and by rollback. */
export async function undoEnforce(
  session: Session,
  m: MigrationModel,
  options: { policies: boolean } = { policies: true },
): Promise<string[]> {
  const current = await currentEnforcement(session);
  if (!current) return [];
  const actions: string[] = [];
  const run = async (sql: string) => {
    await session.query(sql);
    actions.push(sql);
  };
  if (options.policies) {
    const forced = new Set(
      (
        await session.query<{ k: string }>(
          `SELECT table_schema || '.' || table_name AS k FROM ${names.state('snapshot')} WHERE rls_forced`,
        )
      ).rows.map((r) => r.k),
    );
    for (const sql of isolationStatements(m, 'transition', (t) => forced.has(`${t.schema}.${t.name}`))) await run(sql);
  }
  // A view dropped since is skipped: there is nothing to give back.
  for (const g of current.revoked)
    if (await exists(session, g.view))
      await run(`GRANT SELECT ON ${g.view} TO ${g.role === 'PUBLIC' ? 'PUBLIC' : qi(g.role)}`);
  await session.query(`UPDATE ${ENFORCEMENT_TABLE} SET undone_at = now(), undone_by = $2 WHERE id = $1`, [
    current.id,
    operatorName(),
  ]);
  return actions;
}
