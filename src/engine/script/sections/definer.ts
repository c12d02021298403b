// The role the org and ledger triggers run as, and how their SECURITY DEFINER functions are created.
import { dollarQuote, quoteIdent as qi, quoteLiteral as ql, quoteQualified as qq, type QualifiedName } from '../../db/sql';
import { DEFINER_ROLE, STATE_SCHEMA } from '../../names';
import { doBlock, revokeFromOthers } from './common';

const role = qi(DEFINER_ROLE);
/** Every SECURITY DEFINER function of the script: pg_catalog first, pg_temp named (and so searched) last. */
export const DEFINER_SEARCH_PATH = 'pg_catalog, pg_temp';

/**
 * A NOLOGIN role without members but the operator, BYPASSRLS so that its lookups are never filtered by policies (the
 * ledger's are forced). Creating a BYPASSRLS role takes a superuser before PostgreSQL 16 (Supabase's postgres on 15
 * is not one): there the functions stay owned by the operator, which the script says.
 */
export function definerRole(): string[] {
  return [doBlock(`  SELECT r.rolsuper, r.rolbypassrls, r.rolcreaterole, r.oid INTO me FROM pg_roles r WHERE r.rolname = current_user;
  IF to_regrole(${ql(DEFINER_ROLE)}) IS NULL THEN
    IF NOT (me.rolsuper OR (current_setting('server_version_num')::int >= 160000 AND me.rolbypassrls AND me.rolcreaterole)) THEN
      RAISE NOTICE 'tenant-migration: % cannot create the BYPASSRLS role % on PostgreSQL %: the org and ledger triggers run as % (their names are schema-qualified and their search_path is pg_catalog, pg_temp)',
        current_user, ${ql(DEFINER_ROLE)}, current_setting('server_version'), current_user;
      RETURN;
    END IF;
    CREATE ROLE ${role} NOLOGIN NOINHERIT BYPASSRLS;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${ql(DEFINER_ROLE)} AND (rolcanlogin OR rolsuper OR NOT rolbypassrls)) THEN
    RAISE EXCEPTION 'tenant-migration: the role % exists and can log in, is a superuser or does not bypass row-level security', ${ql(DEFINER_ROLE)}
      USING HINT = 'It is not the one the migration creates: drop or rename it, then run again.';
  END IF;
  SELECT string_agg(DISTINCT pg_get_userbyid(m.member), ', ') INTO problem FROM pg_auth_members m WHERE m.roleid = ${ql(DEFINER_ROLE)}::regrole AND m.member <> me.oid;
  IF problem IS NOT NULL THEN
    RAISE EXCEPTION 'tenant-migration: other roles are members of %, and so could act as the triggers: %', ${ql(DEFINER_ROLE)}, problem
      USING HINT = format('REVOKE %I FROM %s; then run again.', ${ql(DEFINER_ROLE)}, problem);
  END IF;
  IF NOT me.rolsuper THEN
    BEGIN
      IF current_setting('server_version_num')::int >= 160000 THEN
        EXECUTE format('GRANT %I TO %I WITH INHERIT FALSE, SET TRUE', ${ql(DEFINER_ROLE)}, current_user);
      ELSE
        EXECUTE format('GRANT %I TO %I', ${ql(DEFINER_ROLE)}, current_user);
      END IF;
    EXCEPTION WHEN insufficient_privilege THEN
      RAISE NOTICE 'tenant-migration: % may not act as % (another role created it): the org and ledger triggers run as %', current_user, ${ql(DEFINER_ROLE)}, current_user;
    END;
  END IF;`, ['me record', 'problem text'])];
}

/** The PL/pgSQL condition: the definer role exists and this session can act as it (set by definerRole). */
const definerUsable = `to_regrole(${ql(DEFINER_ROLE)}) IS NOT NULL AND ((SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
    OR CASE WHEN current_setting('server_version_num')::int >= 160000 THEN pg_has_role(current_user, ${ql(DEFINER_ROLE)}, 'SET') ELSE pg_has_role(current_user, ${ql(DEFINER_ROLE)}, 'MEMBER') END)`;

export interface DefinerReads {
  /** Whole tables it reads. */
  readonly tables?: readonly Required<QualifiedName>[];
  /** Columns of tables it reads. */
  readonly columns?: readonly { table: Required<QualifiedName>; columns: readonly string[] }[];
  /** Tables it writes (SELECT, INSERT, UPDATE). */
  readonly writes?: readonly Required<QualifiedName>[];
}

function grants(reads: DefinerReads): string[] {
  const schemas = new Set<string>([STATE_SCHEMA]);
  const out: string[] = [];
  for (const t of reads.tables ?? []) { schemas.add(t.schema); out.push(`GRANT SELECT ON ${qq(t)} TO ${role};`); }
  for (const c of reads.columns ?? []) { schemas.add(c.table.schema); out.push(`GRANT SELECT (${c.columns.map(qi).join(', ')}) ON ${qq(c.table)} TO ${role};`); }
  for (const t of reads.writes ?? []) { schemas.add(t.schema); out.push(`GRANT SELECT, INSERT, UPDATE ON ${qq(t)} TO ${role};`); }
  return [`GRANT USAGE ON SCHEMA ${[...schemas].map(qi).join(', ')} TO ${role};`, ...out];
}

/**
 * A trigger function run as the definer role (or, where it cannot be had, the operator): created while acting as that
 * role, EXECUTE for nobody but its owner and the operator (who attaches the trigger). The role may create in the state
 * schema only inside this block.
 */
export function definerFunction(fn: Required<QualifiedName>, body: string, reads: DefinerReads): string {
  const name = qq(fn);
  const signature = ql(`${name}()`);
  return doBlock(`  operator := current_user;
  dedicated := ${definerUsable};
  IF dedicated THEN
    GRANT CREATE ON SCHEMA ${qi(STATE_SCHEMA)} TO ${role};
    ${grants(reads).join('\n    ')}
    IF to_regprocedure(${signature}) IS NOT NULL AND (SELECT proowner FROM pg_proc WHERE oid = to_regprocedure(${signature})) <> ${ql(DEFINER_ROLE)}::regrole THEN
      ALTER FUNCTION ${name}() OWNER TO ${role};
    END IF;
    SET LOCAL ROLE ${role};
  END IF;
  CREATE OR REPLACE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = ${DEFINER_SEARCH_PATH} AS ${dollarQuote(body)};
  ${revokeFromOthers('FUNCTION', signature)}
  EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', ${signature}::regprocedure, operator);
  IF dedicated THEN
    RESET ROLE;
    REVOKE CREATE ON SCHEMA ${qi(STATE_SCHEMA)} FROM ${role};
  END IF;`, ['operator name', 'dedicated boolean', 'grantee oid']);
}
