// Names of everything the migration creates. One place, so the script, validation and rollback agree.
import {
  derivedName,
  hashTag,
  quoteIdent,
  quoteLiteral,
  quoteQualified,
  truncateBytes,
  type QualifiedName,
} from './db/sql';

export const STATE_SCHEMA = 'tenant_migration';
/** The role the isolation matrix probes as when no application role reaches the tables yet. */
export const PROBE_ROLE = 'tenant_migration_probe';
export const ISOLATION_POLICY = 'tenant_migration_isolation';
export const MEMBER_POLICY = 'tenant_migration_member_access';
/** Reproduces the access a table had before the migration (all rows where RLS was off; the owner's where it was not forced). */
export const LEGACY_POLICY = 'tenant_migration_legacy_access';
export const ASSIGN_TRIGGER = 'tenant_migration_assign_org';
export const LEDGER_TRIGGER = 'tenant_migration_ledger_sync';
/**
 * The NOLOGIN role that owns the script's SECURITY DEFINER functions: one per database (roles are cluster-wide, and two
 * databases migrated by two operators must not share one), named from the database's name by the server when the SQL
 * runs, so that one script is byte-identical on a rehearsal database and on production. A SQL expression of `database`
 * (a `name` expression); sha256, not md5, so that it also works on FIPS servers. 37 bytes.
 */
export const definerRoleOf = (database: string) =>
  `('tenant_migration_definer_' || left(encode(sha256(convert_to(${database}, 'UTF8')), 'hex'), 12))`;
/** This database's definer role, as a SQL text expression. */
export const DEFINER_ROLE = definerRoleOf('current_database()');
/** How documentation and messages name the role (its suffix depends on the database). */
export const DEFINER_ROLE_LABEL = 'tenant_migration_definer_<hash of the database name>';
/** When the auth hook first ran: in a schema of its own, which supabase_auth_admin may use (never the state schema). */
export const HOOK_SCHEMA = 'tenant_migration_auth';
export const HOOK_RUNS_TABLE = `${quoteIdent(HOOK_SCHEMA)}.hook_runs`;
export const PROGRESS_PREFIX = 'tenant-migration:progress ';

type Resolved = Required<QualifiedName>;

const stateObject = (name: string): Resolved => ({ schema: STATE_SCHEMA, name });
/**
 * The table in one name part: its name in public, `schema__name` elsewhere; tagged with a hash when a "__" in a part
 * could make two tables read the same (public.a__b and a.b).
 */
const tableTag = (table: Resolved) => {
  const tag = table.schema === 'public' ? table.name : `${table.schema}__${table.name}`;
  return table.schema.includes('__') || table.name.includes('__')
    ? `${tag}${hashTag(`${table.schema}\0${table.name}`)}`
    : tag;
};

/** A backup retired by a rollback: its name with the time, the name cut with a hash of it when it would not fit. */
export function retiredBackupName(backupTable: string, stamp: string): string {
  const name = `${backupTable}_${stamp}`;
  if (Buffer.byteLength(name) <= 63) return name;
  const tag = hashTag(backupTable);
  return `${truncateBytes(backupTable, 63 - tag.length - stamp.length - 1)}${tag}_${stamp}`;
}

export const names = {
  state: (name: string) => quoteQualified(stateObject(name)),
  backupTable: (table: Resolved) => stateObject(derivedName('backup_', { name: tableTag(table) })),
  assignTable: (table: Resolved) => stateObject(derivedName('assign_', { name: tableTag(table) })),
  assignFunction: (table: Resolved) => stateObject(derivedName('assign_org_', { name: tableTag(table) })),
  ledgerFunction: (table: Resolved) => stateObject(derivedName('ledger_sync_', { name: tableTag(table) })),
  notNullCheck: (table: Resolved, column: string) => derivedName('', table, `_${column}_not_null`),
  foreignKey: (table: Resolved, column: string) => derivedName('', table, `_${column}_fkey`),
  index: (table: Resolved, column: string) => derivedName('', table, `_${column}_idx`),
};

/** The table as a regclass literal, for catalog lookups inside generated SQL. */
export const regclass = (table: QualifiedName) => `${quoteLiteral(quoteQualified(table))}::regclass`;
export const literalOf = (text: string) => quoteLiteral(text);
export { quoteIdent, quoteQualified };
