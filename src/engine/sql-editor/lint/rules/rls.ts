// Row-level security on tenant tables: what leaves a tenant able to see another's rows (no peer linter has these).
import { relName, str, tablesIn } from '../ast';
import type { LintContext, LintStatement } from '../context';
import type { Node } from '../types';
import { LEGACY_POLICY } from '../../../names';
import { insertAt, type Rule } from './rule';

const LEAK = "lets one tenant read or write another tenant's rows";

export const enableWithoutForce: Rule = {
  id: 'rls-enable-without-force',
  severity: 'warning',
  summary: 'ENABLE ROW LEVEL SECURITY without FORCE on a tenant table.',
  lock: "leaves the table's owner (often the role the application or a SECURITY DEFINER function uses) outside every policy",
  safe: 'ALTER TABLE … FORCE ROW LEVEL SECURITY as well',
  finish(ctx, report) {
    for (const [table, s] of ctx.rlsEnabled) {
      if (!ctx.isTenant(table) || ctx.rlsForcedOn(table)) continue;
      // The migration's transition mode: the owner keeps its access until the enforce step forces row-level security.
      if (ctx.policies.some((p) => p.table === table && p.statement.node.policy_name === LEGACY_POLICY)) continue;
      report(
        this,
        s,
        `ENABLE ROW LEVEL SECURITY on ${table} without FORCE`,
        insertAt('Force it too', s.end, ', FORCE ROW LEVEL SECURITY'),
      );
    }
  },
};

const isTrue = (n: unknown) =>
  (n as { A_Const?: { boolval?: { boolval?: boolean } } } | undefined)?.A_Const?.boolval?.boolval === true;
const roleNames = (s: LintStatement) =>
  ((s.node.roles as { RoleSpec?: { roletype?: string; rolename?: string } }[] | undefined) ?? []).map((r) =>
    r.RoleSpec?.roletype === 'ROLESPEC_CSTRING'
      ? r.RoleSpec.rolename!
      : (r.RoleSpec?.roletype ?? 'PUBLIC').replace('ROLESPEC_', '').toLowerCase(),
  );

const DEFAULT_CROSS_TENANT = ['service_role', 'postgres', 'supabase_admin'];

export const permissiveTrue: Rule = {
  id: 'rls-permissive-true',
  severity: 'error',
  on: ['CreatePolicyStmt', 'AlterPolicyStmt'],
  summary: 'A permissive policy USING (true) or WITH CHECK (true) on a tenant table.',
  lock: `${LEAK}: permissive policies are OR-ed, so this one opens the table to its roles`,
  safe: 'write the tenant condition (org_id = the current org), or scope the policy TO a cross-tenant role',
  check(s, ctx, report) {
    const table = relName(s.node.table);
    if (!table || !ctx.isTenant(table) || (s.type === 'CreatePolicyStmt' && !s.node.permissive)) return;
    if (!isTrue(s.node.qual) && !isTrue(s.node.with_check)) return;
    // A restrictive policy already on the table is AND-ed with this one: it reaches no further than that policy allows.
    if (
      ctx.policies.some(
        (p) =>
          p.table === table &&
          p.statement !== s &&
          p.statement.type === 'CreatePolicyStmt' &&
          !p.statement.node.permissive,
      )
    )
      return;
    const crossTenant = new Set([...DEFAULT_CROSS_TENANT, ...(ctx.options.crossTenantRoles ?? [])]);
    const roles = roleNames(s);
    if (roles.length > 0 && roles.every((r) => crossTenant.has(r))) return;
    report(
      this,
      s,
      `policy ${s.node.policy_name} on ${table} is ${isTrue(s.node.qual) ? 'USING (true)' : 'WITH CHECK (true)'} for ${roles.join(', ') || 'public'}`,
    );
  },
};

export const policyWithoutRls: Rule = {
  id: 'rls-policy-without-rls',
  severity: 'warning',
  summary: 'A policy on a table whose row-level security is off.',
  lock: 'has no effect: without ENABLE ROW LEVEL SECURITY every role sees every row',
  safe: 'ALTER TABLE … ENABLE ROW LEVEL SECURITY and FORCE ROW LEVEL SECURITY',
  finish(ctx, report) {
    for (const { table, statement } of ctx.policies) {
      if (!ctx.isTenant(table) || ctx.rlsOn(table)) continue;
      // Without the database's word the table may have RLS on already: a note, not a hazard.
      report(
        this,
        statement,
        `policy ${statement.node.policy_name} on ${table}, whose row-level security ${ctx.facts(table) ? 'is off' : 'this file never enables'}`,
        undefined,
        ctx.facts(table) ? 'warning' : 'info',
      );
    }
  },
};

const VIEW_NAME =
  /^CREATE\s+(OR\s+REPLACE\s+)?((TEMP|TEMPORARY)\s+)?(RECURSIVE\s+)?VIEW\s+(("[^"]*"|[\w$]+)(\.("[^"]*"|[\w$]+))?)(\s*\([^)]*\))?/i;

export const viewSecurityInvoker: Rule = {
  id: 'rls-view-security-invoker',
  severity: 'warning',
  on: ['ViewStmt'],
  summary: 'A view over a tenant table that is not security_invoker.',
  lock: `runs with its owner's rights, so row-level security is checked against the owner: it ${LEAK}`,
  safe: 'CREATE VIEW … WITH (security_invoker = true) (PostgreSQL 15+)',
  check(s, ctx, report) {
    const options = ((s.node.options as Node[] | undefined) ?? []).map(
      (o) => o.DefElem as { defname?: string; arg?: unknown },
    );
    const invoker = options.find((o) => o.defname === 'security_invoker');
    if (
      invoker &&
      !['false', 'off', '0'].includes(
        String(
          str(invoker.arg) ?? (invoker.arg as { Boolean?: { boolval?: boolean } })?.Boolean?.boolval ?? 'true',
        ).toLowerCase(),
      )
    )
      return;
    const tenant = tablesIn(s.node.query).filter((t) => (ctx.options.tenantTables ? ctx.isTenant(t) : ctx.rlsOn(t)));
    if (tenant.length === 0) return;
    const match = VIEW_NAME.exec(s.text);
    const fix =
      ctx.postgresVersion >= 15 && options.length === 0 && match
        ? insertAt('Make it security_invoker', s.start + match[0].length, ' WITH (security_invoker = true)')
        : undefined;
    report(this, s, `view ${relName(s.node.view)} over ${[...new Set(tenant)].join(', ')}`, fix);
  },
};

function searchPathOf(s: LintStatement): string[] | undefined {
  for (const option of (s.node.options as Node[] | undefined) ?? []) {
    const def = option.DefElem as
      { defname?: string; arg?: { VariableSetStmt?: { name?: string; args?: unknown[] } } } | undefined;
    const set = def?.defname === 'set' ? def.arg?.VariableSetStmt : undefined;
    if (set?.name === 'search_path')
      return (set.args ?? [])
        .map((a) => (a as { A_Const?: { sval?: { sval?: string } } }).A_Const?.sval?.sval ?? str(a) ?? '')
        .map((n) => n.trim().toLowerCase());
  }
  return undefined;
}

const securityDefiner = (s: LintStatement) =>
  ((s.node.options as Node[] | undefined) ?? []).some(
    (o) =>
      (o.DefElem as { defname?: string; arg?: { Boolean?: { boolval?: boolean } } } | undefined)?.defname ===
        'security' && (o.DefElem as { arg?: { Boolean?: { boolval?: boolean } } }).arg?.Boolean?.boolval === true,
  );

export const securityDefinerSearchPath: Rule = {
  id: 'security-definer-search-path',
  severity: 'warning',
  on: ['CreateFunctionStmt'],
  summary: 'A SECURITY DEFINER function without a fixed search_path (pg_temp explicit and last, names qualified).',
  lock: "runs with its owner's rights, and a name it does not qualify is looked up through the caller's search_path (or, with pg_temp in it, the caller's temporary schema), where the caller can put an object of its own",
  safe: 'SET search_path = pg_catalog, pg_temp on the function (pg_temp last) and schema-qualify every table in its body',
  check(s, ctx: LintContext, report) {
    if (!securityDefiner(s)) return;
    const path = searchPathOf(s);
    if (!path) {
      report(this, s, 'SECURITY DEFINER function without SET search_path');
      return;
    }
    if (path.at(-1) !== 'pg_temp') {
      report(this, s, `SECURITY DEFINER function whose search_path (${path.join(', ')}) does not end with pg_temp`);
      return;
    }
    const unqualified = ctx.unqualifiedInBody?.(s) ?? [];
    if (unqualified.length > 0)
      report(this, s, `SECURITY DEFINER function that names ${[...new Set(unqualified)].join(', ')} without a schema`);
  },
};

export const RLS_RULES: readonly Rule[] = [
  enableWithoutForce,
  permissiveTrue,
  policyWithoutRls,
  viewSecurityInvoker,
  securityDefinerSearchPath,
];
