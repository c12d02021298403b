// The isolation matrix's cells, as SQL: table × SELECT/INSERT/UPDATE/DELETE × actor, each acting on the probe row of
// org "a" (the own org of the "own org" actor; "another org" is signed in to org "b"). One definition for the live
// probe and for the exported pgTAP files: only how a probe row's value is written (RefSql) differs.
import { quoteIdent as qi, quoteLiteral as ql, quoteQualified as qq } from '../db/sql';
import type { TenantContext } from '../migration-spec/schema';
import { insertSql, keyPredicate, updatableColumn, type RefSql, type Side, type TablePlan } from './rows';

export type Operation = 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE';
export type Actor = 'own org' | 'another org' | 'no tenant context' | 'anonymous' | 'cross-tenant role';
export const OPERATIONS: Operation[] = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'];

export interface ActorSpec {
  readonly actor: Actor;
  readonly role: string;
  /** The org the request is signed in to; null: none. */
  readonly org: Side | null;
  /** Signed in as the probe row's owner (its user_id), so that owner-only legacy policies let the row through. */
  readonly asRowOwner: boolean;
  /** The role carries a tenant context (a tenant role), rather than being anon or a cross-tenant role. */
  readonly tenant: boolean;
}

/**
 * tenants: the roles held to their org, each probed as every tenant actor; crossTenant: the spec's crossTenantRoles
 * (and Supabase's service_role for a Supabase spec) that exist on the server.
 */
export interface Roles {
  readonly tenants: string[];
  readonly anon?: string;
  readonly crossTenant: string[];
}

export function actorsFor(roles: Roles): ActorSpec[] {
  const actors: ActorSpec[] = roles.tenants.flatMap((role): ActorSpec[] => [
    { actor: 'own org', role, org: 'a', asRowOwner: true, tenant: true },
    { actor: 'another org', role, org: 'b', asRowOwner: true, tenant: true },
    { actor: 'no tenant context', role, org: null, asRowOwner: false, tenant: true },
  ]);
  if (roles.anon) actors.push({ actor: 'anonymous', role: roles.anon, org: null, asRowOwner: false, tenant: false });
  for (const role of roles.crossTenant)
    actors.push({ actor: 'cross-tenant role', role, org: null, asRowOwner: false, tenant: false });
  return actors;
}

/** How a cell's actor reads in a check's name: "own org (app_user)", "cross-tenant role auditor". */
export const actorLabel = (a: { actor: Actor; role: string }) =>
  a.actor === 'cross-tenant role' ? `cross-tenant role ${a.role}` : `${a.actor} (${a.role})`;

/** The statement of one cell, on org a's probe row (INSERT: a new row of org a, a no-op if it collides). */
export function cellSql(p: TablePlan, operation: Operation, ref: RefSql, target: Side = 'a'): string {
  const where = keyPredicate(p, target, ref);
  const column = qi(updatableColumn(p));
  switch (operation) {
    case 'SELECT':
      return `SELECT 1 FROM ${qq(p.table)} WHERE ${where}`;
    // A conflict does not hide a denial: row-level security checks the new row before the unique indexes do. A
    // deferrable constraint cannot be an arbiter, and is checked only at commit (the probes never commit).
    case 'INSERT':
      return `${insertSql(p, 'a', ref, false)}${p.deferrableUnique ? '' : ' ON CONFLICT DO NOTHING'}`;
    case 'UPDATE':
      return `UPDATE ${qq(p.table)} SET ${column} = ${column} WHERE ${where}`;
    case 'DELETE':
      return `DELETE FROM ${qq(p.table)} WHERE ${where}`;
  }
}

/** Moves org a's row into org b: the WITH CHECK half of the policies must reject it. */
export function moveSql(p: TablePlan, orgsTag: string, orgIdColumn: string, orgType: string, ref: RefSql): string {
  return `UPDATE ${qq(p.table)} SET ${qi(p.orgColumn!)} = ${ref(orgsTag, 'b', orgIdColumn, orgType)} WHERE ${keyPredicate(p, 'a', ref)}`;
}

/** The org id and the row owner of an actor, in SQL (NULL when it has none). */
export interface ContextValues {
  readonly org: string | null;
  readonly sub: string | null;
}

export function contextValues(
  a: ActorSpec,
  p: TablePlan,
  orgsTag: string,
  orgIdColumn: string,
  ref: RefSql,
): ContextValues {
  const hasOwner = p.allColumns.some((c) => c.name === 'user_id' && c.type === 'uuid');
  return {
    org: a.org ? ref(orgsTag, a.org, orgIdColumn, 'text') : null,
    sub: a.asRowOwner && hasOwner ? ref(p.tag, 'a', 'user_id', 'text') : null,
  };
}

/** The SELECT that puts the tenant context in place, transaction-local, as PostgREST (or the application) does. */
export function contextSql(context: TenantContext, a: ActorSpec, v: ContextValues): string {
  if (context.kind === 'supabase-jwt') {
    const parts = [`'role', ${ql(a.role)}`];
    if (a.tenant && v.org) parts.push(`${ql(context.claim)}, ${v.org}`);
    if (a.tenant && v.sub) parts.push(`'sub', ${v.sub}`);
    return `SELECT set_config('request.jwt.claims', jsonb_strip_nulls(jsonb_build_object(${parts.join(', ')}))::text, true)`;
  }
  return `SELECT set_config(${ql(context.name)}, ${a.tenant && v.org ? `coalesce(${v.org}, '')` : `''`}, true)`;
}
