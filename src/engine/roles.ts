// Who reaches the migrated tables: roles with grants or policies on them, and owners of SECURITY DEFINER functions
// that read them. Some legitimately read across orgs (crossTenantRoles); the others are tenant roles.
import type { Session } from './db/session';
import type { MigrationModel } from './model';
import { crossTenantRoles } from './script/isolation-policy';

export interface AccessRole {
  readonly role: string;
  /** How it reaches the tables: 'grant', 'policy', 'definer function'. */
  readonly via: string[];
  readonly tables: string[];
  /** Superuser or BYPASSRLS: row-level security never applies to it. */
  readonly bypassesRls: boolean;
  readonly ownsTables: boolean;
  readonly crossTenant: boolean;
}

export interface DefinerFunction {
  readonly fn: string;
  readonly owner: string;
  readonly callableBy: string[];
  readonly ownerReadsAcross: boolean;
}

const tableOids = (m: MigrationModel) => m.tables.map((t) => t.info.oid);
const tableNames = (m: MigrationModel) => m.tables.map((t) => t.name.name);

/** SECURITY DEFINER functions (not triggers, not the tool's) whose body names a migrated table, with who may call them. */
export async function definerFunctions(session: Session, m: MigrationModel): Promise<DefinerFunction[]> {
  const cross = crossTenantRoles(m);
  const { rows } = await session.query<{ fn: string; owner: string; bypass: boolean; callable: string[] }>(
    `SELECT p.oid::regprocedure::text AS fn, pg_get_userbyid(p.proowner) AS owner, r.rolsuper OR r.rolbypassrls AS bypass,
            ARRAY(SELECT x.rolname::text FROM pg_roles x WHERE (x.rolname IN ('anon', 'authenticated') OR x.oid IN (SELECT a.grantee FROM pg_class c, aclexplode(c.relacl) a WHERE c.oid = ANY($2::oid[])))
                    AND NOT x.rolsuper AND NOT x.rolbypassrls AND has_function_privilege(x.oid, p.oid, 'EXECUTE') ORDER BY 1)
             || CASE WHEN p.proacl IS NULL OR EXISTS (SELECT 1 FROM aclexplode(p.proacl) a WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE') THEN ARRAY['public'] ELSE ARRAY[]::text[] END AS callable
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_roles r ON r.oid = p.proowner
      WHERE p.prosecdef AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'tenant_migration') AND p.prorettype <> 'trigger'::regtype
        AND EXISTS (SELECT 1 FROM unnest($1::text[]) t WHERE p.prosrc ~* ('\\m' || t || '\\M'))
      ORDER BY 1`,
    [tableNames(m), tableOids(m)],
  );
  return rows.map((r) => ({
    fn: r.fn,
    owner: r.owner,
    callableBy: r.callable,
    ownerReadsAcross: r.bypass || cross.includes(r.owner),
  }));
}

/** Every role that reaches a migrated table by a grant, a policy or a definer function it owns. */
export async function accessRoles(session: Session, m: MigrationModel): Promise<AccessRole[]> {
  const { rows } = await session.query<{ role: string; via: string; tables: string[]; bypass: boolean; owns: boolean }>(
    `WITH reach AS (
       SELECT a.grantee AS role_oid, 'grant' AS via, c.oid::regclass::text AS tbl FROM pg_class c, aclexplode(c.relacl) a WHERE c.oid = ANY($1::oid[]) AND a.grantee <> 0 AND a.grantee <> c.relowner
       UNION SELECT r, 'policy', p.polrelid::regclass::text FROM pg_policy p, unnest(p.polroles) r WHERE p.polrelid = ANY($1::oid[]) AND r <> 0 AND p.polname NOT LIKE 'tenant\\_migration\\_%'
       UNION SELECT c.relowner, 'owner', c.oid::regclass::text FROM pg_class c WHERE c.oid = ANY($1::oid[]))
     SELECT r.rolname AS role, string_agg(DISTINCT reach.via, ',') AS via, array_agg(DISTINCT reach.tbl ORDER BY reach.tbl) AS tables,
            r.rolsuper OR r.rolbypassrls AS bypass, bool_or(reach.via = 'owner') AS owns
       FROM reach JOIN pg_roles r ON r.oid = reach.role_oid GROUP BY r.rolname, r.rolsuper, r.rolbypassrls ORDER BY 1`,
    [tableOids(m)],
  );
  const cross = crossTenantRoles(m);
  const roles = rows.map((r) => ({
    role: r.role,
    via: r.via.split(',').filter((v) => v !== 'owner'),
    tables: r.tables,
    bypassesRls: r.bypass,
    ownsTables: r.owns,
    crossTenant: cross.includes(r.role),
  }));
  for (const f of await definerFunctions(session, m)) {
    const known = roles.find((r) => r.role === f.owner);
    if (known) {
      if (!known.via.includes('definer function')) known.via.push('definer function');
    } else {
      roles.push({
        role: f.owner,
        via: ['definer function'],
        tables: [],
        bypassesRls: f.ownerReadsAcross && !cross.includes(f.owner),
        ownsTables: false,
        crossTenant: cross.includes(f.owner),
      });
    }
  }
  return roles;
}

/** Roles the isolation policy holds to their org once enforced: every reaching role but the cross-tenant and bypassing ones. */
export const tenantRoles = (roles: AccessRole[]) => roles.filter((r) => !r.crossTenant && !r.bypassesRls);
