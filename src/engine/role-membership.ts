// Role memberships that take a tenant role around row-level security: a tenant role that may SET ROLE to a
// cross-tenant role (the isolation policy lets current_user read every org), to a superuser or BYPASSRLS role, or
// that holds the privileges of a table's owner (INHERIT, or SET ROLE: an owner may switch row-level security off).
// Read from pg_auth_members through every chain of grants: PostgreSQL 16 records per grant whether it inherits and
// whether it allows SET ROLE; before 16 every grant allows SET ROLE and the member's INHERIT attribute decides.
import type { Session } from './db/session';
import { quoteIdent as qi } from './db/sql';
import type { MigrationModel } from './model';
import { STATE_SCHEMA } from './names';
import { accessRoles, tenantRoles } from './roles';
import { crossTenantRoles } from './script/isolation-policy';

export interface MembershipBypass {
  /** The tenant role, and the roles it reaches, in order (tenant first, the role reached last). */
  readonly tenant: string;
  readonly chain: string[];
  readonly reached: string;
  readonly kind: 'cross-tenant' | 'bypasses' | 'owner';
  /** How the tenant role gets the reached role's rights. */
  readonly how: 'SET ROLE' | 'INHERIT';
  /** What it does about it: one sentence naming both roles. */
  readonly message: string;
  /** The statement that removes the way (the first grant of the chain). */
  readonly fix: string;
}

const edgeOptions = (version: number) =>
  version >= 160000
    ? { set: 'm.set_option', inherit: 'm.inherit_option' }
    : { set: 'true', inherit: '(SELECT x.rolinherit FROM pg_roles x WHERE x.oid = m.member)' };

/** Every chain of grants from the tenant roles to a role that reads around the isolation policy. */
export async function membershipBypasses(
  session: Session,
  m: MigrationModel,
  tenants?: string[],
): Promise<MembershipBypass[]> {
  const version = Number(
    (await session.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`)).rows[0]!.v,
  );
  const names = tenants ?? (await tenantRoleNames(session, m));
  if (names.length === 0) return [];
  const e = edgeOptions(version);
  const { rows } = await session.query<{
    tenant: string;
    chain: string[];
    reached: string;
    can_set: boolean;
    inherits: boolean;
    cross: boolean;
    bypass: boolean;
    owner: boolean;
  }>(
    `WITH RECURSIVE chain AS (
       SELECT m.member AS tenant, m.roleid AS reached, ARRAY[m.member, m.roleid] AS path, ${e.set} AS can_set, ${e.inherit} AS inherits
         FROM pg_auth_members m WHERE m.member IN (SELECT oid FROM pg_roles WHERE rolname = ANY($1::text[]))
       UNION ALL
       SELECT c.tenant, m.roleid, c.path || m.roleid, c.can_set AND ${e.set}, c.inherits AND ${e.inherit}
         FROM chain c JOIN pg_auth_members m ON m.member = c.reached WHERE m.roleid <> ALL(c.path))
     SELECT pg_get_userbyid(c.tenant)::text AS tenant, ARRAY(SELECT pg_get_userbyid(p)::text FROM unnest(c.path) WITH ORDINALITY u(p, o) ORDER BY o) AS chain,
            r.rolname::text AS reached, c.can_set, c.inherits, r.rolname = ANY($2::text[]) AS cross, r.rolsuper OR r.rolbypassrls AS bypass,
            EXISTS (SELECT 1 FROM pg_class t WHERE t.oid = ANY($3::oid[]) AND t.relowner = r.oid) AS owner
       FROM chain c JOIN pg_roles r ON r.oid = c.reached
      ORDER BY 1, array_length(c.path, 1), 3`,
    [names, crossTenantRoles(m), m.tables.map((t) => t.info.oid)],
  );
  const found: MembershipBypass[] = [];
  for (const r of rows) {
    const kind = r.cross ? 'cross-tenant' : r.bypass ? 'bypasses' : r.owner ? 'owner' : undefined;
    // SET ROLE reaches all three; inherited privileges matter only for an owner's (current_user stays the tenant's).
    const how = r.can_set ? 'SET ROLE' : r.inherits && kind === 'owner' ? 'INHERIT' : undefined;
    if (!kind || !how || found.some((f) => f.tenant === r.tenant && f.reached === r.reached)) continue;
    const through = r.chain.length > 2 ? ` (through ${r.chain.slice(1, -1).join(', ')})` : '';
    const what =
      kind === 'cross-tenant'
        ? `${r.reached}, a cross-tenant role the isolation policy lets read every org`
        : kind === 'bypasses'
          ? `${r.reached}, which bypasses row-level security (superuser or BYPASSRLS)`
          : `${r.reached}, the owner of tenant tables (an owner may switch row-level security off)`;
    const verb = how === 'SET ROLE' ? 'may SET ROLE to' : 'inherits the privileges of';
    found.push({
      tenant: r.tenant,
      chain: r.chain,
      reached: r.reached,
      kind,
      how,
      message: `tenant role ${r.tenant} is a member of ${r.reached}${through} and ${verb} ${what}: a way around row-level security, every org's rows are within its reach`,
      fix: `REVOKE ${qi(r.chain[1]!)} FROM ${qi(r.tenant)};`,
    });
  }
  return found;
}

/**
 * The roles held to their org: for a Supabase spec anon and authenticated, and every role that reaches the tables by a
 * grant or a policy but is neither named in crossTenantRoles, nor bypasses row-level security, nor owns them.
 */
export async function tenantRoleNames(session: Session, m: MigrationModel): Promise<string[]> {
  const names = new Set(
    tenantRoles(await accessRoles(session, m))
      .filter((r) => r.via.some((v) => v === 'grant' || v === 'policy'))
      .map((r) => r.role),
  );
  if (m.loaded.spec.tenantContext.kind === 'supabase-jwt') {
    const { rows } = await session.query<{ rolname: string }>(
      `SELECT rolname FROM pg_roles WHERE rolname IN ('anon', 'authenticated') AND NOT rolbypassrls AND NOT rolsuper`,
    );
    for (const r of rows) names.add(r.rolname);
  }
  return [...names].filter((n) => !n.startsWith(`${STATE_SCHEMA}_`) && n !== STATE_SCHEMA).sort();
}
