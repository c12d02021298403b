// The role the org and ledger triggers run as, and how their SECURITY DEFINER functions are created.
import {
  dollarQuote,
  quoteIdent as qi,
  quoteLiteral as ql,
  quoteQualified as qq,
  type QualifiedName,
} from '../../db/sql';
import { DEFINER_ROLE, STATE_SCHEMA } from '../../names';
import { doBlock, revokeFromOthers } from './common';

/** Every SECURITY DEFINER function of the script: pg_catalog first, pg_temp named (and so searched) last. */
export const DEFINER_SEARCH_PATH = 'pg_catalog, pg_temp';
/** The PL/pgSQL declaration of `definer`, this database's role (its name computed by the server, see names.ts). */
const DEFINER_VARIABLE = `definer name := ${DEFINER_ROLE}`;

/**
 * A NOLOGIN role without members but the operator, BYPASSRLS so that its lookups are never filtered by policies (the
 * ledger's are forced). Creating a BYPASSRLS role takes a superuser before PostgreSQL 16 (Supabase's postgres on 15
 * is not one): there the functions stay owned by the operator, which the script says.
 */
export function definerRole(): string[] {
  return [
    doBlock(
      `  SELECT r.rolsuper, r.rolbypassrls, r.rolcreaterole, r.oid INTO me FROM pg_roles r WHERE r.rolname = current_user;
  IF to_regrole(definer) IS NULL THEN
    IF NOT (me.rolsuper OR (current_setting('server_version_num')::int >= 160000 AND me.rolbypassrls AND me.rolcreaterole)) THEN
      RAISE NOTICE 'tenant-migration: % cannot create the BYPASSRLS role % on PostgreSQL %: the org and ledger triggers run as % (their names are schema-qualified and their search_path is pg_catalog, pg_temp)',
        current_user, definer, current_setting('server_version'), current_user;
      RETURN;
    END IF;
    EXECUTE format('CREATE ROLE %I NOLOGIN NOINHERIT BYPASSRLS', definer);
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = definer AND (rolcanlogin OR rolsuper OR NOT rolbypassrls OR rolinherit)) THEN
    RAISE EXCEPTION 'tenant-migration: the role % exists and can log in, is a superuser, inherits or does not bypass row-level security', definer
      USING HINT = 'It is not the one the migration creates: drop or rename it, then run again.';
  END IF;
  SELECT string_agg(DISTINCT quote_ident(pg_get_userbyid(m.member)), ', ') INTO problem FROM pg_auth_members m WHERE m.roleid = to_regrole(definer) AND m.member <> me.oid;
  IF problem IS NOT NULL THEN
    RAISE EXCEPTION 'tenant-migration: other roles are members of %, the role this database''s triggers run as, and so could act as them: %', definer, problem
      USING HINT = format('REVOKE %I FROM %s; then run again.', definer, problem);
  END IF;
  IF NOT me.rolsuper THEN
    BEGIN
      IF current_setting('server_version_num')::int >= 160000 THEN
        EXECUTE format('GRANT %I TO %I WITH INHERIT FALSE, SET TRUE', definer, current_user);
      ELSE
        EXECUTE format('GRANT %I TO %I', definer, current_user);
      END IF;
    EXCEPTION WHEN insufficient_privilege THEN
      RAISE NOTICE 'tenant-migration: % may not act as % (another role created it): the org and ledger triggers run as %', current_user, definer, current_user;
    END;
  END IF;`,
      [DEFINER_VARIABLE, 'me record', 'problem text'],
    ),
  ];
}

/** The PL/pgSQL condition: the definer role exists and this session can act as it (set by definerRole). */
const definerUsable = `to_regrole(definer) IS NOT NULL AND ((SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
    OR CASE WHEN current_setting('server_version_num')::int >= 160000 THEN pg_has_role(current_user, definer, 'SET') ELSE pg_has_role(current_user, definer, 'MEMBER') END)`;

/** PL/pgSQL running `statement` (its text up to the grantee) for the definer role. */
const toDefiner = (statement: string) => `EXECUTE format('%s %I', ${ql(statement)}, definer);`;

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
  for (const t of reads.tables ?? []) {
    schemas.add(t.schema);
    out.push(toDefiner(`GRANT SELECT ON ${qq(t)} TO`));
  }
  for (const c of reads.columns ?? []) {
    schemas.add(c.table.schema);
    out.push(toDefiner(`GRANT SELECT (${c.columns.map(qi).join(', ')}) ON ${qq(c.table)} TO`));
  }
  for (const t of reads.writes ?? []) {
    schemas.add(t.schema);
    out.push(toDefiner(`GRANT SELECT, INSERT, UPDATE ON ${qq(t)} TO`));
  }
  return [toDefiner(`GRANT USAGE ON SCHEMA ${[...schemas].map(qi).join(', ')} TO`), ...out];
}

/**
 * A trigger function run as the definer role (or, where it cannot be had, the operator): created while acting as that
 * role, EXECUTE for nobody but its owner and the operator (who attaches the trigger). The role may create in the state
 * schema only inside this block.
 */
export function definerFunction(fn: Required<QualifiedName>, body: string, reads: DefinerReads): string {
  const name = qq(fn);
  const signature = ql(`${name}()`);
  return doBlock(
    `  operator := current_user;
  dedicated := ${definerUsable};
  IF dedicated THEN
    ${toDefiner(`GRANT CREATE ON SCHEMA ${qi(STATE_SCHEMA)} TO`)}
    ${grants(reads).join('\n    ')}
    IF to_regprocedure(${signature}) IS NOT NULL AND (SELECT proowner FROM pg_proc WHERE oid = to_regprocedure(${signature})) <> to_regrole(definer) THEN
      ${toDefiner(`ALTER FUNCTION ${name}() OWNER TO`)}
    END IF;
    EXECUTE format('SET LOCAL ROLE %I', definer);
  END IF;
  CREATE OR REPLACE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = ${DEFINER_SEARCH_PATH} AS ${dollarQuote(body)};
  ${revokeFromOthers('FUNCTION', signature)}
  EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', ${signature}::regprocedure, operator);
  IF dedicated THEN
    RESET ROLE;
    ${toDefiner(`REVOKE CREATE ON SCHEMA ${qi(STATE_SCHEMA)} FROM`)}
  END IF;`,
    [DEFINER_VARIABLE, 'operator name', 'dedicated boolean', 'grantee oid'],
  );
}
