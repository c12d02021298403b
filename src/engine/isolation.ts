// Step 5: the isolation matrix. Every cell runs as a real application role in a transaction that is rolled back, on
// probe rows the tool writes itself (one per org for every table, parents first: see isolation/rows.ts), so an
// empty table or a table of one org is proven too: table × SELECT/INSERT/UPDATE/DELETE × (own org, another org,
// no tenant context: as each tenant role; anonymous; each cross-tenant role the spec names). Writing the probe rows fires the tables' triggers and uses sequence
// values; nothing of it is committed.
import type { Session } from './db/session';
import { displayName, quoteIdent as qi, quoteLiteral as ql, quoteQualified as qq } from './db/sql';
import type { CheckResult } from './events';
import type { MigrationModel } from './model';
import type { TenantContext } from './migration-spec/schema';
import { findTable, type TableInfo } from './introspect';
import { membershipBypasses, tenantRoleNames } from './role-membership';
import { crossTenantRoles } from './script/isolation-policy';
import { LEGACY_POLICY, MEMBER_POLICY, PROBE_ROLE } from './names';
import { classify, denialCause, judge, leakCause, ownDenialCause, type Outcome } from './isolation/causes';
import { expectedOutcome, type Expected, type Mode } from './isolation/expectations';
import {
  actorsFor,
  cellSql,
  contextSql,
  contextValues,
  moveSql,
  OPERATIONS,
  type Actor,
  type Operation,
  type Roles,
} from './isolation/matrix';
import { runCell } from './isolation/probe';
import { keyPredicate, literalRef, planProbeRows, writeProbeRows, type TablePlan } from './isolation/rows';
import { waysAroundRls } from './isolation/views';
import { plural } from '../shared/format';

export type { Actor, Operation } from './isolation/matrix';
export type { Outcome } from './isolation/causes';
export type { Mode } from './isolation/expectations';

export interface Probe {
  readonly table: string;
  readonly operation: Operation;
  readonly actor: Actor;
  /** The database role the cell ran as. */
  readonly role: string;
  /** 'either': the table kept its own permissive policies, which decide what a member may do in their org. */
  readonly expected: Expected;
  readonly outcome: Outcome;
  readonly ok: boolean;
  /** What happened (the error, or how many rows), and for a failed cell its cause. */
  readonly detail: string;
  /** The database's error, when the statement failed. */
  readonly error?: string;
}

export interface IsolationResult {
  readonly probes: Probe[];
  readonly bypasses: CheckResult[];
  /** Definer-rights views through which another org's probe row was seen. */
  readonly leakingViews: string[];
  /** The tables probe rows were written to (two each, rolled back). */
  readonly probeTables: string[];
  /** Tenant roles that may take a role reading every org (a membership around row-level security). */
  readonly escapingRoles: string[];
}

export interface Target {
  name: { schema: string; name: string };
  info: TableInfo;
  orgColumn: string;
}

async function roleExists(session: Session, role: string): Promise<boolean> {
  return (await session.query(`SELECT 1 FROM pg_roles WHERE rolname = $1`, [role])).rows.length > 0;
}

/**
 * The roles a tenant's session uses: Supabase's authenticated; otherwise the roles the application has (every role
 * that reaches the tables by a grant or a policy and is neither cross-tenant, bypassing nor an owner); only when there
 * is none, a probe role with the grants an application has.
 */
async function tenantRolesToProbe(session: Session, m: MigrationModel, targets: Target[]): Promise<string[]> {
  const context = m.loaded.spec.tenantContext;
  if (context.kind === 'supabase-jwt' && (await roleExists(session, 'authenticated'))) return ['authenticated'];
  const real = await tenantRoleNames(session, m);
  if (real.length > 0) return real;
  if (!(await roleExists(session, PROBE_ROLE)))
    await session.query(`CREATE ROLE ${qi(PROBE_ROLE)} NOLOGIN NOBYPASSRLS`);
  for (const t of targets) {
    await session.query(`GRANT USAGE ON SCHEMA ${qi(t.name.schema)} TO ${qi(PROBE_ROLE)}`);
    await session.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${qq(t.name)} TO ${qi(PROBE_ROLE)}`);
  }
  return [PROBE_ROLE];
}

/** The spec's cross-tenant roles that exist; Supabase's service_role only for a Supabase spec (roles are cluster-wide). */
async function crossTenantRolesToProbe(session: Session, m: MigrationModel): Promise<string[]> {
  const named = [
    ...crossTenantRoles(m),
    ...(m.loaded.spec.tenantContext.kind === 'supabase-jwt' ? ['service_role'] : []),
  ];
  const { rows } = await session.query<{ rolname: string }>(
    `SELECT rolname FROM pg_roles WHERE rolname = ANY($1::text[]) ORDER BY 1`,
    [[...new Set(named)]],
  );
  return rows.map((r) => r.rolname);
}

export async function probeRoles(session: Session, m: MigrationModel, targets: Target[]): Promise<Roles> {
  const tenants = await tenantRolesToProbe(session, m, targets);
  const anon =
    m.loaded.spec.tenantContext.kind === 'supabase-jwt' && (await roleExists(session, 'anon')) ? 'anon' : undefined;
  return { tenants, anon, crossTenant: await crossTenantRolesToProbe(session, m) };
}

/** Whether the tool's role may act as the role (SET ROLE needs membership, or SET on PostgreSQL 16+). */
async function mayActAs(session: Session, role: string): Promise<boolean> {
  await session.query('SAVEPOINT act_as');
  try {
    await session.query(`SET LOCAL ROLE ${qi(role)}`);
    return true;
  } catch {
    return false;
  } finally {
    await session.query('ROLLBACK TO SAVEPOINT act_as');
  }
}

/** The tenant context of an org for the tool's own writes (the probe rows), so FORCE RLS lets an owner write them. */
function writerContext(context: TenantContext, org: string | null): string {
  if (context.kind === 'supabase-jwt')
    return `SELECT set_config('request.jwt.claims', ${ql(JSON.stringify(org === null ? {} : { [context.claim]: org }))}, true)`;
  return `SELECT set_config(${ql(context.name)}, ${ql(org ?? '')}, true)`;
}

export async function isolationTargets(session: Session, m: MigrationModel): Promise<Target[]> {
  const targets: Target[] = [];
  for (const t of m.tables) {
    const info = await findTable(session, t.name);
    if (info) targets.push({ name: t.name, info, orgColumn: m.orgColumn });
  }
  if (m.ledger) {
    const info = await findTable(session, m.ledger.name);
    if (info) targets.push({ name: m.ledger.name, info, orgColumn: 'org_id' });
  }
  return targets;
}

export async function planFor(
  session: Session,
  m: MigrationModel,
  targets: Target[],
): Promise<{ plans: TablePlan[]; orgsTag: string }> {
  return planProbeRows(session, {
    orgs: m.orgs,
    tenants: targets.map((t) => ({ name: t.name, orgColumn: t.orgColumn })),
  });
}

async function granted(session: Session, role: string, table: TableInfo, operation: Operation): Promise<boolean> {
  return (
    await session.query<{ ok: boolean }>(`SELECT has_table_privilege($1, $2::oid, $3) AS ok`, [
      role,
      table.oid,
      operation,
    ])
  ).rows[0]!.ok;
}

async function roleFacts(
  session: Session,
  role: string,
  table: TableInfo,
): Promise<{ role: string; bypassesRls: boolean; ownsTable: boolean }> {
  return { role, bypassesRls: await bypassesRls(session, role), ownsTable: table.owner === role };
}

async function bypassesRls(session: Session, role: string): Promise<boolean> {
  return (
    (
      await session.query<{ bypass: boolean }>(
        `SELECT rolsuper OR rolbypassrls AS bypass FROM pg_roles WHERE rolname = $1`,
        [role],
      )
    ).rows[0]?.bypass ?? false
  );
}

/** What the exported tests are made of besides the probes: the plans, the roles and how each move cell failed. */
export interface MatrixRun extends IsolationResult {
  readonly targets: Target[];
  readonly plans: TablePlan[];
  readonly orgsTag: string;
  readonly roles: Roles;
  /** The own org moving its row into another org (the WITH CHECK half, or the org trigger's parent check), by table: the error it raised. */
  readonly moves: Map<string, { error?: string; code?: string }>;
}

export async function verifyIsolation(
  session: Session,
  m: MigrationModel,
  mode: Mode = 'enforced',
): Promise<IsolationResult> {
  const { probes, bypasses, leakingViews, probeTables, escapingRoles } = await runMatrix(session, m, mode);
  return { probes, bypasses, leakingViews, probeTables, escapingRoles };
}

/** The whole matrix, in one transaction that is rolled back. */
export async function runMatrix(session: Session, m: MigrationModel, mode: Mode = 'enforced'): Promise<MatrixRun> {
  const context = m.loaded.spec.tenantContext;
  const targets = await isolationTargets(session, m);
  const probes: Probe[] = [];
  const moves = new Map<string, { error?: string; code?: string }>();
  await session.query('BEGIN');
  try {
    // The tool's session reads with row_security off; its probe rows are written under the policies (see writerContext).
    await session.query('SET LOCAL row_security = on');
    const roles = await probeRoles(session, m, targets);
    const { plans, orgsTag } = await planFor(session, m, targets);
    await session.query('SAVEPOINT probe_rows');
    const { rows, problems } = await writeProbeRows(session, plans, m.orgs.idColumn, (org) =>
      writerContext(context, org),
    );
    const ref = literalRef(rows);
    const actable = new Map<string, boolean>();
    for (const a of actorsFor(roles)) if (!actable.has(a.role)) actable.set(a.role, await mayActAs(session, a.role));
    const planOf = (t: Target) =>
      plans.find((p) => p.orgColumn && p.table.schema === t.info.name.schema && p.table.name === t.info.name.name)!;
    for (const t of targets) {
      const plan = planOf(t);
      const label = displayName(t.name);
      const memberPolicy = t.info.policies.some((p) => p.name === MEMBER_POLICY);
      const legacyAccess = t.info.policies.some((p) => p.name === LEGACY_POLICY && p.roles.includes('public'));
      for (const a of actorsFor(roles)) {
        const setup = contextSql(context, a, contextValues(a, plan, orgsTag, m.orgs.idColumn, ref));
        const bypass = await bypassesRls(session, a.role);
        for (const operation of OPERATIONS) {
          const { expected } = expectedOutcome(
            a.actor,
            operation,
            {
              memberPolicy,
              legacyAccess,
              bypassesRls: bypass,
              granted: await granted(session, a.role, t.info, operation),
            },
            mode,
          );
          const problem =
            problems.get(plan.tag) ??
            (actable.get(a.role)
              ? undefined
              : `the tool's role ${session.target.user} may not SET ROLE ${a.role} (GRANT ${qi(a.role)} TO it, or verify as a superuser)`);
          if (problem) {
            probes.push({
              table: label,
              operation,
              actor: a.actor,
              role: a.role,
              expected,
              outcome: 'unproven',
              ok: false,
              detail: `unproven: ${problem}`,
            });
            continue;
          }
          const result = await runCell(session, a.role, setup, cellSql(plan, operation, ref));
          const outcome = classify(operation, result);
          const ok = judge(expected, outcome);
          const seen = result.error ?? plural(result.rows, 'row');
          let detail = result.error ? `${seen} (${denialCause(result.error)})` : seen;
          if (outcome === 'unproven') detail = `unproven: ${result.error}`;
          else if (!ok && expected === 'deny')
            detail = `${seen}: ${leakCause(t.info, await roleFacts(session, a.role, t.info))}`;
          else if (!ok) detail = `${seen}: ${ownDenialCause(t.info, operation, result.error)}`;
          probes.push({
            table: label,
            operation,
            actor: a.actor,
            role: a.role,
            expected,
            outcome,
            ok,
            detail,
            error: result.error,
          });
        }
        if (a.actor === 'own org' && a.role === roles.tenants[0] && !problems.has(plan.tag) && actable.get(a.role)) {
          const { error, code } = await runCell(
            session,
            a.role,
            setup,
            moveSql(plan, orgsTag, m.orgs.idColumn, m.orgType, ref),
          );
          moves.set(label, { error, code });
        }
      }
    }
    const other = actorsFor(roles).find((a) => a.actor === 'another org')!;
    const allTenants = [
      ...new Set([...roles.tenants, ...(roles.anon ? [roles.anon] : []), ...(await tenantRoleNames(session, m))]),
    ].sort();
    const { checks, leakingViews } = await waysAroundRls(
      session,
      targets.map((t) => ({
        oid: t.info.oid,
        schema: t.info.name.schema,
        name: t.info.name.name,
        label: displayName(t.name),
      })),
      {
        roles: allTenants,
        otherOrgContext: contextSql(context, other, { org: ref(orgsTag, 'b', m.orgs.idColumn, 'text'), sub: null }),
        deleteOwnRow: (oid) => {
          const plan = plans.find((p) =>
            targets.some(
              (t) => t.info.oid === oid && p.table.name === t.info.name.name && p.table.schema === t.info.name.schema,
            ),
          );
          return plan && !problems.has(plan.tag)
            ? `DELETE FROM ${qq(plan.table)} WHERE ${keyPredicate(plan, 'a', ref)}`
            : undefined;
        },
      },
    );
    const escapes = await membershipBypasses(session, m, allTenants);
    const escapingRoles = [...new Set(escapes.map((b) => b.tenant))];
    for (const b of escapes) {
      checks.push({ name: `Role ${b.tenant}`, ok: false, severity: 'error', detail: `${b.message}. Fix: ${b.fix}` });
    }
    const probeTables = plans.filter((p) => !problems.has(p.tag)).map((p) => p.label);
    return {
      probes,
      bypasses: checks,
      leakingViews,
      probeTables,
      escapingRoles,
      targets,
      plans,
      orgsTag,
      roles,
      moves,
    };
  } finally {
    await session.query('ROLLBACK');
  }
}
