// The isolation policy's predicate, in transition mode and enforced; one place for the script, enforce and undo.
import { quoteIdent as qi, quoteLiteral as ql } from '../db/sql';
import type { MigrationModel } from '../model';
import { names } from '../names';
import { contextSentExpression, currentOrgExpression } from './context';
import { doBlock, named, revokeFromOthers } from './sections/common';

export type IsolationMode = 'transition' | 'enforced';

/**
 * The orgs that existed when the migration switched row-level security on. Every role may SELECT it, for the policy's
 * lookup (a policy runs as the requesting role); none may name it in a query of its own: the state schema gives no
 * USAGE, which is checked when a query is parsed, not when a stored policy runs.
 */
export const KNOWN_ORGS_TABLE = names.state('transition_orgs');
/** Named apart from any org column, so that inside the policy's subquery the table's own column is the one meant. */
export const KNOWN_ORG_COLUMN = 'tenant_migration_known_org';
/** The trigger function that keeps a request without a tenant context from moving a row to another org. */
export const KEEP_ORG_FUNCTION = names.state('keep_org');
export const KEEP_ORG_TRIGGER = 'tenant_migration_keep_org';

/** Each enforcement and its undo; a row not undone means isolation is enforced. */
export const ENFORCEMENT_TABLE = names.state('enforcement');

/** PL/pgSQL: sets `variable` true when isolation is enforced now (the table may not exist yet). */
export const readEnforced = (variable: string) => `IF to_regclass(${ql(ENFORCEMENT_TABLE)}) IS NOT NULL THEN
    ${variable} := EXISTS (SELECT 1 FROM ${ENFORCEMENT_TABLE} WHERE undone_at IS NULL);
  END IF;`;

/** Roles the isolation policy does not hold: the spec's crossTenantRoles, and supabase_auth_admin for the auth hook. */
export function crossTenantRoles(m: MigrationModel): string[] {
  const spec = m.loaded.spec;
  return [...new Set([...spec.crossTenantRoles, ...(spec.authHook ? ['supabase_auth_admin'] : [])])].sort();
}

const exemption = (m: MigrationModel) => {
  const roles = crossTenantRoles(m);
  return roles.length === 0 ? '' : `current_user = ANY (ARRAY[${roles.map(ql).join(', ')}]::name[]) OR `;
};

/**
 * Transition: a request with a tenant context is held to its org; one without keeps its pre-migration access, limited
 * to the orgs that existed at migration time. Enforced: no context, no rows. A context that is not a value of the org
 * type (a claim of "", a setting of 'abc') is no org: no rows, in either mode, and no error.
 */
export function isolationPredicate(m: MigrationModel, column: string, mode: IsolationMode): string {
  const current = currentOrgExpression(m.loaded.spec.tenantContext, m.orgType);
  const org = qi(column);
  if (mode === 'enforced') return `(${exemption(m)}${org} = ${current})`;
  const sent = contextSentExpression(m.loaded.spec.tenantContext);
  return `(${exemption(m)}CASE WHEN NOT ${sent} THEN EXISTS (SELECT 1 FROM ${KNOWN_ORGS_TABLE} AS known WHERE known.${KNOWN_ORG_COLUMN} = ${org}) ELSE ${org} = ${current} END)`;
}

/** The statements behind the transition predicate: the orgs known at migration time, and the guard against moves. */
export function transitionSupport(m: MigrationModel): string[] {
  const current = currentOrgExpression(m.loaded.spec.tenantContext, m.orgType);
  const roles = crossTenantRoles(m);
  const exempt = roles.length === 0 ? 'false' : `current_user = ANY (ARRAY[${roles.map(ql).join(', ')}]::name[])`;
  return [
    named(
      'create the table of the orgs known now (the transition policy reads it)',
      KNOWN_ORGS_TABLE,
      doBlock(
        `  IF to_regclass(${ql(KNOWN_ORGS_TABLE)}) IS NULL THEN
    CREATE TABLE ${KNOWN_ORGS_TABLE} (${KNOWN_ORG_COLUMN} ${m.orgType} PRIMARY KEY, known_since timestamptz NOT NULL DEFAULT now());
    ${revokeFromOthers('TABLE', ql(KNOWN_ORGS_TABLE))}
    GRANT SELECT ON ${KNOWN_ORGS_TABLE} TO PUBLIC;
  END IF;`,
        ['grantee oid'],
      ),
    ),
    named(
      'record the orgs known now',
      KNOWN_ORGS_TABLE,
      `INSERT INTO ${KNOWN_ORGS_TABLE} (${KNOWN_ORG_COLUMN}) SELECT o.${qi(m.orgs.idColumn)} FROM ${qqOrgs(m)} AS o
 WHERE NOT EXISTS (SELECT 1 FROM ${KNOWN_ORGS_TABLE}) ON CONFLICT DO NOTHING;`,
    ),
    named(
      'create the function that stops a request without a tenant context from moving a row to another org',
      KEEP_ORG_FUNCTION,
      `CREATE OR REPLACE FUNCTION ${KEEP_ORG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
  IF (to_jsonb(OLD) -> TG_ARGV[0]) <> 'null'::jsonb AND (to_jsonb(NEW) -> TG_ARGV[0]) IS DISTINCT FROM (to_jsonb(OLD) -> TG_ARGV[0])
     AND ${current} IS NULL AND NOT ${exempt}
     AND NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = current_user AND (rolsuper OR rolbypassrls)) THEN
    RAISE EXCEPTION 'tenant-migration: a request without a tenant context cannot move a row of %.% to another org', TG_TABLE_SCHEMA, TG_TABLE_NAME
      USING ERRCODE = '42501', HINT = 'Send the tenant context with the request (the org the row belongs to).';
  END IF;
  RETURN NEW;
END
$fn$;`,
    ),
    // A trigger function needs no EXECUTE grant to fire.
    named(
      'revoke every privilege on that function',
      KEEP_ORG_FUNCTION,
      doBlock(`  ${revokeFromOthers('FUNCTION', ql(`${KEEP_ORG_FUNCTION}()`))}`, ['grantee oid']),
    ),
  ];
}

const qqOrgs = (m: MigrationModel) => `${qi(m.orgs.name.schema)}.${qi(m.orgs.name.name)}`;
