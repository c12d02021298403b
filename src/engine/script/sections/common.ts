// What the sections of the generated script share: blocks, the default org, catalog predicates, lock timeouts.
import { dollarQuote, quoteLiteral as ql } from '../../db/sql';
import type { MigrationModel, TableModel } from '../../model';
import { DEFINER_ROLE, regclass } from '../../names';

/** A DO block; `declarations` are its variables (`name type`), one per entry. */
export const doBlock = (body: string, declarations: readonly string[] = []) =>
  `DO ${dollarQuote(`\n${declarations.length ? `DECLARE\n${declarations.map((d) => `  ${d};\n`).join('')}` : ''}BEGIN\n${body}\nEND\n`)};`;
/**
 * What a statement does, on the line above it in the script: "-- does: backfill org_id in batches — public.reports".
 * The plan lists the statements by these names (statementName reads them back).
 */
export const NAME_PREFIX = '-- does: ';
export const named = (what: string, object: string | undefined, sql: string) =>
  `${NAME_PREFIX}${what}${object ? ` — ${object}` : ''}\n${sql}`;
export const orgValue = (m: MigrationModel) => `${ql(m.defaultOrgId)}::${m.orgType}`;
export const tableLiteral = (t: TableModel) => `${ql(t.name.schema)}, ${ql(t.name.name)}`;
export const hasColumn = (t: TableModel, column: string) =>
  `EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = ${regclass(t.name)} AND attname = ${ql(column)} AND NOT attisdropped)`;

export const PROBLEM = 'problem text';

/**
 * PL/pgSQL that revokes every privilege on an object the script created from every role but its owner, whatever the
 * default privileges granted when it was created (ALTER DEFAULT PRIVILEGES … GRANT ALL ON TABLES TO anon is common).
 * Needs a declared `grantee oid`. `kind` is TABLE (tables and sequences) or FUNCTION; `object` its regclass or
 * regprocedure text, as a SQL literal. The grants of the role the triggers run as are theirs to keep (a re-run must not
 * take them away while the application writes).
 */
export function revokeFromOthers(kind: 'TABLE' | 'FUNCTION', object: string): string {
  const reg = kind === 'TABLE' ? 'regclass' : 'regprocedure';
  const acl =
    kind === 'TABLE'
      ? `SELECT c.relowner AS owner, c.relacl AS acl FROM pg_class c WHERE c.oid = ${object}::regclass`
      : `SELECT p.proowner AS owner, p.proacl AS acl FROM pg_proc p WHERE p.oid = ${object}::regprocedure`;
  return `EXECUTE format('REVOKE ALL ON ${kind} %s FROM PUBLIC', ${object}::${reg});
    FOR grantee IN SELECT DISTINCT a.grantee FROM (${acl}) AS o, aclexplode(o.acl) AS a WHERE a.grantee <> o.owner AND a.grantee <> 0 AND a.grantee IS DISTINCT FROM to_regrole(${DEFINER_ROLE}) LOOP
      EXECUTE format('REVOKE ALL ON ${kind} %s FROM %I', ${object}::${reg}, pg_get_userbyid(grantee));
    END LOOP;`;
}
/** A lock wait long enough to outlast deadlock_timeout, so that it cancels an autovacuum in its way; only for locks that block no DML. */
export const patientLockTimeout = (m: MigrationModel) => `'${Math.max(10_000, m.loaded.spec.lockTimeoutMs)}ms'`;
export const shortLockTimeout = (m: MigrationModel) => `'${m.loaded.spec.lockTimeoutMs}ms'`;
/** A statement whose lock blocks no writer (SHARE UPDATE EXCLUSIVE), run with the patient lock timeout. */
export const patiently = (m: MigrationModel, statement: string) => [
  `SET lock_timeout = ${patientLockTimeout(m)};`,
  statement,
  `SET lock_timeout = ${shortLockTimeout(m)};`,
];
