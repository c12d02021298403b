// Names of everything the migration creates. One place, so the script, validation and rollback agree.
import { derivedName, quoteIdent, quoteLiteral, quoteQualified, type QualifiedName } from './db/sql';

export const STATE_SCHEMA = 'tenant_migration';
export const ISOLATION_POLICY = 'tenant_migration_isolation';
export const MEMBER_POLICY = 'tenant_migration_member_access';
export const ASSIGN_TRIGGER = 'tenant_migration_assign_org';
export const LEDGER_TRIGGER = 'tenant_migration_ledger_sync';
/** The NOLOGIN role that owns the script's SECURITY DEFINER functions (one per cluster: roles are not per database). */
export const DEFINER_ROLE = 'tenant_migration_definer';
export const PROGRESS_PREFIX = 'tenant-migration:progress ';

type Resolved = Required<QualifiedName>;

const stateObject = (name: string): Resolved => ({ schema: STATE_SCHEMA, name });
const tableTag = (table: Resolved) => (table.schema === 'public' ? table.name : `${table.schema}__${table.name}`);

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
