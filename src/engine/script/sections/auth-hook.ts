// Supabase's Custom Access Token Hook, as Supabase documents it: a plain function Auth calls as supabase_auth_admin
// with the event; it adds the org claim from the membership table and a marker claim, and never raises.
import { dollarQuote, quoteIdent as qi, quoteLiteral as ql, quoteQualified as qq } from '../../db/sql';
import type { MigrationModel } from '../../model';
import { doBlock, revokeFromOthers } from './common';
import { HOOK_RUNS_TABLE, HOOK_SCHEMA, names, regclass } from '../../names';

export const HOOK_POLICY = 'tenant_migration_auth_hook_read';
/** The privileges the hook section gives supabase_auth_admin, and whether it held each before (rollback revokes the others). */
export const HOOK_PRIVILEGES_TABLE = names.state('hook_privileges');

/** Records, once, which of the privileges the hook needs supabase_auth_admin held directly before the migration. */
function recordHookPrivileges(schemas: string[], membership: { schema: string; name: string }): string {
  const admin = `(SELECT oid FROM pg_roles WHERE rolname = 'supabase_auth_admin')`;
  const onSchema = (schema: string) =>
    `(${ql(`USAGE ON SCHEMA ${qi(schema)}`)}, EXISTS (SELECT 1 FROM pg_namespace n, aclexplode(n.nspacl) a WHERE n.nspname = ${ql(schema)} AND a.grantee = ${admin} AND a.privilege_type = 'USAGE'))`;
  const onTable = `(${ql(`SELECT ON ${qq(membership)}`)}, EXISTS (SELECT 1 FROM pg_class c, aclexplode(c.relacl) a WHERE c.oid = ${regclass(membership)} AND a.grantee = ${admin} AND a.privilege_type = 'SELECT'))`;
  return doBlock(
    `  IF to_regclass(${ql(HOOK_PRIVILEGES_TABLE)}) IS NULL THEN
    CREATE TABLE ${HOOK_PRIVILEGES_TABLE} (privilege text PRIMARY KEY, held_before boolean NOT NULL);
    ${revokeFromOthers('TABLE', ql(HOOK_PRIVILEGES_TABLE))}
  END IF;
  INSERT INTO ${HOOK_PRIVILEGES_TABLE} (privilege, held_before) VALUES ${[...new Set(schemas)].map(onSchema).join(', ')}, ${onTable}
  ON CONFLICT (privilege) DO NOTHING;`,
    ['grantee oid'],
  );
}

export function authHook(m: MigrationModel): string[] {
  const hook = m.authHook;
  if (!hook || m.loaded.spec.tenantContext.kind !== 'supabase-jwt') return [];
  const claim = m.loaded.spec.tenantContext.claim;
  const marker = hook.spec.markerClaim;
  const fn = `${qq(hook.function)}(jsonb)`;
  const member = `m.${qi(hook.orgColumn)}`;
  const rule = hook.spec.activeOrg;
  const order = rule.kind === 'first' ? `m.${qi(rule.orderBy)}, ${member}` : member;
  const choose = [
    rule.kind === 'app-metadata'
      ? `wanted := claims -> 'app_metadata' ->> ${ql(rule.key)};
      IF wanted IS NOT NULL AND wanted = ANY (orgs) THEN org := wanted; END IF;`
      : '',
    `IF org IS NULL AND cardinality(orgs) = 1 THEN org := orgs[1]; END IF;`,
    rule.kind === 'first' ? `IF org IS NULL AND cardinality(orgs) > 1 THEN org := orgs[1]; END IF;` : '',
    `source := CASE WHEN org IS NOT NULL THEN 'membership' WHEN cardinality(orgs) > 1 THEN 'ambiguous' ELSE 'none' END;`,
  ]
    .filter(Boolean)
    .join('\n      ');
  const body = `
DECLARE
  claims jsonb := coalesce(event -> 'claims', '{}'::jsonb);
  orgs text[];
  org text;
  wanted text;
  source text := 'error';
BEGIN
  BEGIN
    SELECT coalesce(array_agg(${member}::text ORDER BY ${order}), '{}') INTO orgs
      FROM ${qq(hook.membership)} AS m WHERE m.${qi(hook.userColumn)} = (event ->> 'user_id')::${hook.userType} AND ${member} IS NOT NULL;
    ${choose}
  EXCEPTION WHEN OTHERS THEN
    org := NULL;
    source := 'error';
  END;
  BEGIN  -- when the hook first ran: enforcement waits until tokens issued before it have expired
    IF NOT EXISTS (SELECT 1 FROM ${HOOK_RUNS_TABLE}) THEN
      INSERT INTO ${HOOK_RUNS_TABLE} DEFAULT VALUES ON CONFLICT DO NOTHING;
    END IF;
  EXCEPTION WHEN OTHERS THEN
    NULL;
  END;
  claims := CASE WHEN org IS NULL THEN claims - ${ql(claim)} ELSE jsonb_set(claims, ARRAY[${ql(claim)}], to_jsonb(org)) END;
  claims := jsonb_set(claims, ARRAY[${ql(marker)}], to_jsonb(source));
  RETURN jsonb_set(event, '{claims}', claims);
EXCEPTION WHEN OTHERS THEN
  RETURN event;  -- a raising hook stops every sign-in
END
`;
  return [
    recordHookPrivileges([hook.function.schema, hook.membership.schema], hook.membership),
    `CREATE SCHEMA IF NOT EXISTS ${qi(HOOK_SCHEMA)};`,
    `REVOKE ALL ON SCHEMA ${qi(HOOK_SCHEMA)} FROM PUBLIC;`,
    `CREATE TABLE IF NOT EXISTS ${HOOK_RUNS_TABLE} (only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row), first_run_at timestamptz NOT NULL DEFAULT now());`,
    doBlock(`  ${revokeFromOthers('TABLE', ql(HOOK_RUNS_TABLE))}`, ['grantee oid']),
    `GRANT USAGE ON SCHEMA ${qi(HOOK_SCHEMA)} TO supabase_auth_admin;`,
    `GRANT SELECT, INSERT ON ${HOOK_RUNS_TABLE} TO supabase_auth_admin;`,
    `CREATE OR REPLACE FUNCTION ${qq(hook.function)}(event jsonb) RETURNS jsonb LANGUAGE plpgsql SET search_path = '' AS ${dollarQuote(body)};`,
    `GRANT USAGE ON SCHEMA ${qi(hook.function.schema)} TO supabase_auth_admin;`,
    `GRANT EXECUTE ON FUNCTION ${fn} TO supabase_auth_admin;`,
    `REVOKE EXECUTE ON FUNCTION ${fn} FROM authenticated, anon, PUBLIC;`,
    `GRANT USAGE ON SCHEMA ${qi(hook.membership.schema)} TO supabase_auth_admin;`,
    `GRANT SELECT ON ${qq(hook.membership)} TO supabase_auth_admin;`,
    doBlock(`  IF NOT EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = ${ql(qq(hook.membership))}::regclass AND polname = ${ql(HOOK_POLICY)}) THEN
    CREATE POLICY ${qi(HOOK_POLICY)} ON ${qq(hook.membership)} AS PERMISSIVE FOR SELECT TO supabase_auth_admin USING (true);
  END IF;`),
  ];
}
