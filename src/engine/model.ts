// The spec checked against the database: every name resolved, every type known, tables in parent-first order.
import { failed, usageError, refused } from './errors';
import { SQLSTATE, hasSqlState } from './db/pg-errors';
import type { Session } from './db/session';
import { displayName, parseQualifiedName, quoteIdent, quoteQualified, type QualifiedName } from './db/sql';
import { column, findTable, sameTable, type TableInfo } from './introspect';
import type { LoadedSpec, ResolvedTable } from './migration-spec/load';
import { columnsOf } from './migration-spec/schema';
import { keyLabel, pairKeyType } from './key-columns';
import { ledgerRefusal, partitionRefusals } from './partitions';
import { qualifiedType, qualifyQuery } from './script/qualify';
import { resolveAuthHook, type AuthHookModel } from './auth-hook';

type Resolved = Required<QualifiedName>;

export type OrgRule =
  /** `columns`: one, or several for a composite key, paired in order with the mapping table's keyColumns. */
  | { readonly kind: 'mapping'; readonly columns: readonly string[] }
  /** `parentMigrated` false: the spec does not migrate the parent; its org column is read as it is (never written). */
  | { readonly kind: 'parent'; readonly columns: readonly string[]; readonly parent: Resolved; readonly references: readonly string[]; readonly parentMigrated: boolean }
  /** `sql` names every relation, function and type with its schema (resolved when the model was read); `relations` are those it reads. */
  | { readonly kind: 'query'; readonly columns: readonly [string]; readonly sql: string; readonly relations: readonly Resolved[] };

export interface TableModel {
  readonly name: Resolved;
  readonly specIndex: number;
  readonly info: TableInfo;
  readonly rule: OrgRule;
  /** The type of the key the org is decided by (for a composite mapping key, jsonb: see key-columns.ts). */
  readonly keyType: string;
}

export interface MigrationModel {
  readonly loaded: LoadedSpec;
  readonly orgs: { readonly name: Resolved; readonly idColumn: string };
  readonly orgType: string;
  readonly defaultOrgId: string;
  readonly mapping?: { readonly name: Resolved; readonly keyColumns: readonly string[]; readonly orgColumn: string; readonly keyTypes: readonly string[] };
  readonly orgColumn: string;
  /** Parents before children. */
  readonly tables: readonly TableModel[];
  readonly ledger?: { readonly name: Resolved; readonly from: TableModel; readonly keyColumn: string; readonly keyType: string; readonly exists: boolean };
  readonly authHook?: AuthHookModel;
  /** Reference data every org reads: not migrated. */
  readonly sharedTables: readonly TableInfo[];
}

async function requireTable(session: Session, field: string, name: QualifiedName): Promise<TableInfo> {
  const info = await findTable(session, name);
  if (!info) throw usageError(`Table ${displayName(name)} (spec field ${field}) does not exist in ${session.target.database}`, 'Create it, or fix the name in the spec (schema-qualify it if it is not on the search_path).');
  return info;
}

function requireColumn(info: TableInfo, columnName: string, field: string): string {
  const found = column(info, columnName);
  if (!found) {
    const known = info.columns.map((c) => c.name).slice(0, 12).join(', ');
    throw usageError(`Column "${columnName}" (spec field ${field}) does not exist in ${displayName(info.name)}`, `Use one of its columns: ${known}.`);
  }
  return found.type;
}

function sameType(a: string, b: string): boolean {
  const base = (t: string) => t.replace(/\(.*\)$/, '');
  return base(a) === base(b);
}

async function checkDefaultOrg(session: Session, orgType: string, defaultOrgId: string): Promise<void> {
  try {
    await session.query(`SELECT $1::text::${orgType}`, [defaultOrgId]);
  } catch {
    throw usageError(`defaultOrgId "${defaultOrgId}" is not a valid ${orgType}, the type of the orgs id column`, `Write a ${orgType} value that is the id of an existing org.`);
  }
}

async function queryTypes(session: Session, sql: string, field: string): Promise<{ key: string; org: string }> {
  try {
    return await session.transaction(async () => {
      const result = await session.query(`SELECT q.key, q.org_id FROM (${sql}) AS q LIMIT 0`);
      const typeOf = async (oid: number) => (await session.query<{ t: string }>('SELECT format_type($1, NULL) AS t', [oid])).rows[0]!.t;
      return { key: await typeOf(result.fields[0]!.dataTypeID), org: await typeOf(result.fields[1]!.dataTypeID) };
    }, 'READ ONLY');
  } catch (e) {
    if (hasSqlState(e, SQLSTATE.insufficientPrivilege)) {
      throw failed(`The query in ${field} is not allowed for this user: ${(e as Error).message}`, 'Run as the owner of the tables (Supabase: postgres), or GRANT SELECT on the tables the query reads.');
    }
    throw usageError(`The query in ${field} fails: ${(e as Error).message}`, 'It must return two columns named key and org_id, for example SELECT user_id AS key, org_id FROM org_members.');
  }
}

function parentFirst(tables: TableModel[]): TableModel[] {
  const ordered: TableModel[] = [];
  const visiting = new Set<TableModel>();
  const visit = (t: TableModel) => {
    if (ordered.includes(t)) return;
    if (visiting.has(t)) throw usageError(`tables[${t.specIndex}].orgFrom.parent forms a cycle`, 'A table cannot take its org from itself, directly or through others.');
    visiting.add(t);
    if (t.rule.kind === 'parent') {
      const parent = tables.find((p) => sameTable(p.name, (t.rule as { parent: Resolved }).parent));
      if (parent) visit(parent);
    }
    ordered.push(t);
  };
  tables.forEach(visit);
  return ordered;
}

/** The parent's columns a child key points to: the foreign key from exactly these columns to the parent, else its primary key. */
function defaultReferences(info: TableInfo, parentInfo: TableInfo, columns: readonly string[]): string[] | undefined {
  const fk = info.foreignKeys.find((f) => sameTable(f.referencedTable, parentInfo.name) && f.columns.length === columns.length && columns.every((c) => f.columns.includes(c)));
  if (fk) return columns.map((c) => fk.referencedColumns[fk.columns.indexOf(c)]!);
  // Several columns are paired by a foreign key or by the spec: never by position against a primary key's order.
  return columns.length === 1 && parentInfo.primaryKey.length === 1 ? parentInfo.primaryKey : undefined;
}

/** Why a parent the spec does not migrate cannot give its org, and the spec entry that would migrate it (its own parent, when it has one that is migrated). */
function unmigratedParentFix(loaded: LoadedSpec, parentInfo: TableInfo): string {
  const grandparent = parentInfo.foreignKeys.find((f) => loaded.tables.some((t) => sameTable(t.name, f.referencedTable)));
  const entry = grandparent
    ? `{ "name": "${displayName(parentInfo.name)}", "orgFrom": { "parent": { "table": "${displayName(grandparent.referencedTable)}", "column": ${JSON.stringify(grandparent.columns.length === 1 ? grandparent.columns[0] : grandparent.columns)} } } }`
    : `{ "name": "${displayName(parentInfo.name)}", "orgFrom": { ... } }`;
  return `Add the parent table to "tables" so it gets its org first: ${entry}.`;
}

async function resolveParentRule(session: Session, loaded: LoadedSpec, table: ResolvedTable, info: TableInfo, orgType: string, orgColumn: string): Promise<TableModel> {
  const field = `tables[${table.index}].orgFrom.parent`;
  const spec = (table.spec.orgFrom as { parent: { table: string; column: string | string[]; references?: string | string[] } }).parent;
  const list = Array.isArray(spec.column);
  const columns = columnsOf(spec.column);
  const at = (name: string, i: number) => `${field}.${name}${list ? `[${i}]` : ''}`;
  const types = columns.map((c, i) => requireColumn(info, c, at('column', i)));
  const parentName = parseQualifiedName(spec.table);
  const parentInfo = await requireTable(session, `${field}.table`, loaded.tables.find((t) => t.spec.name === spec.table)?.name ?? parentName);
  const parentMigrated = loaded.tables.some((t) => t.spec.name === spec.table || sameTable(t.name, parentInfo.name));
  if (!parentMigrated) {
    const own = column(parentInfo, orgColumn);
    if (!own || !sameType(own.type, orgType)) {
      throw usageError(`${field}.table ${displayName(parentInfo.name)} is not one of the spec's tables and has no ${orgColumn} column of type ${orgType} to read the org from`,
        unmigratedParentFix(loaded, parentInfo));
    }
  }
  const references = spec.references === undefined ? defaultReferences(info, parentInfo, columns) : columnsOf(spec.references);
  if (!references) {
    throw usageError(columns.length === 1
      ? `${displayName(parentInfo.name)} has no single-column primary key for ${field} to reference`
      : `${displayName(info.name)} has no foreign key from ${keyLabel(columns)} to ${displayName(parentInfo.name)} to pair the columns of ${field} with`,
    `Set ${field}.references to the parent column${columns.length === 1 ? ' the child column points' : 's the child columns point'} to${columns.length === 1 ? '' : `, in the same order (for example ${JSON.stringify(parentInfo.primaryKey)})`}.`);
  }
  references.forEach((r, i) => {
    const referencedType = requireColumn(parentInfo, r, spec.references === undefined ? `${field}.references (default)` : at('references', i));
    if (!sameType(referencedType, types[i]!)) throw usageError(`${displayName(info.name)}.${columns[i]} is ${types[i]} but ${displayName(parentInfo.name)}.${r} is ${referencedType}`, 'Point orgFrom.parent at columns of the same type.');
  });
  return { name: info.name, specIndex: table.index, info, rule: { kind: 'parent', columns, parent: parentInfo.name, references, parentMigrated }, keyType: types[0]! };
}

async function resolveTable(session: Session, loaded: LoadedSpec, table: ResolvedTable, orgType: string, orgColumn: string, mappingKeyTypes?: readonly string[]): Promise<TableModel> {
  const field = `tables[${table.index}]`;
  const info = await requireTable(session, `${field}.name`, table.name);
  const refusal = info.partitionTree ? partitionRefusals(info.name, info.partitionTree, orgColumn)[0] : undefined;
  if (refusal) throw usageError(`${field}: ${refusal.problem}`, refusal.fix);
  const existingOrg = column(info, orgColumn);
  if (existingOrg && !sameType(existingOrg.type, orgType)) {
    throw usageError(`${displayName(info.name)} already has a column "${orgColumn}" of type ${existingOrg.type}, not ${orgType}`, 'Rename that column, or set "orgColumn" in the spec to another name.');
  }
  const orgFrom = table.spec.orgFrom;
  if ('mapping' in orgFrom) {
    const list = Array.isArray(orgFrom.mapping.column);
    const columns = columnsOf(orgFrom.mapping.column);
    const keyColumns = columnsOf(loaded.spec.mapping!.keyColumn);
    const types = columns.map((c, i) => requireColumn(info, c, `${field}.orgFrom.mapping.column${list ? `[${i}]` : ''}`));
    types.forEach((keyType, i) => {
      if (mappingKeyTypes && !sameType(keyType, mappingKeyTypes[i]!)) {
        throw usageError(`${displayName(info.name)}.${columns[i]} is ${keyType} but the mapping key ${keyColumns[i]} is ${mappingKeyTypes[i]}`, 'Make the mapping table\'s key column the same type as the column it maps.');
      }
    });
    return { name: info.name, specIndex: table.index, info, rule: { kind: 'mapping', columns }, keyType: pairKeyType(types) };
  }
  if ('parent' in orgFrom) return resolveParentRule(session, loaded, table, info, orgType, orgColumn);
  const keyType = requireColumn(info, orgFrom.query.column, `${field}.orgFrom.query.column`);
  const query = await qualifyQuery(session, orgFrom.query.sql, `${field}.orgFrom.query.sql`);
  const types = await queryTypes(session, query.sql, `${field}.orgFrom.query.sql`);
  if (!sameType(types.key, keyType)) throw usageError(`The query in ${field}.orgFrom.query.sql returns key as ${types.key} but ${displayName(info.name)}.${orgFrom.query.column} is ${keyType}`, 'Cast the key in the query to the column\'s type.');
  if (!sameType(types.org, orgType)) throw usageError(`The query in ${field}.orgFrom.query.sql returns org_id as ${types.org}, not ${orgType}`, 'Cast org_id in the query to the orgs id type.');
  return { name: info.name, specIndex: table.index, info, rule: { kind: 'query', columns: [orgFrom.query.column], sql: query.sql, relations: query.relations }, keyType };
}

export async function resolveModel(session: Session, loaded: LoadedSpec): Promise<MigrationModel> {
  const { spec } = loaded;
  const orgsInfo = await requireTable(session, 'orgs.table', loaded.orgsTable);
  const orgType = requireColumn(orgsInfo, spec.orgs.idColumn, 'orgs.idColumn');
  const defaultOrgId = String(spec.defaultOrgId);
  await checkDefaultOrg(session, orgType, defaultOrgId);
  let mapping: MigrationModel['mapping'];
  if (spec.mapping && loaded.mappingTable) {
    const info = await requireTable(session, 'mapping.table', loaded.mappingTable);
    const keyColumns = columnsOf(spec.mapping.keyColumn);
    const keyTypes = keyColumns.map((c, i) => requireColumn(info, c, `mapping.keyColumn${Array.isArray(spec.mapping!.keyColumn) ? `[${i}]` : ''}`));
    const mappedOrgType = requireColumn(info, spec.mapping.orgColumn, 'mapping.orgColumn');
    if (!sameType(mappedOrgType, orgType)) throw usageError(`mapping.orgColumn ${displayName(info.name)}.${spec.mapping.orgColumn} is ${mappedOrgType} but the orgs id is ${orgType}`, 'Make the mapping table\'s org column the same type as the orgs id.');
    mapping = { name: info.name, keyColumns, orgColumn: spec.mapping.orgColumn, keyTypes };
  }
  const models: TableModel[] = [];
  for (const table of loaded.tables) models.push(await resolveTable(session, loaded, table, orgType, spec.orgColumn, mapping?.keyTypes));
  for (const t of models) {
    if (sameTable(t.name, orgsInfo.name)) throw usageError(`tables[${t.specIndex}] is the orgs table itself`, 'Remove the orgs table from "tables".');
  }
  const tables = parentFirst(models);
  let ledger: MigrationModel['ledger'];
  if (loaded.tenantCredentials) {
    const from = tables.find((t) => sameTable(t.name, loaded.tenantCredentials!.from));
    if (!from) throw usageError(`tenantCredentials.from ${displayName(loaded.tenantCredentials.from)} is not one of the spec's tables`, 'Point it at the migrated credentials table.');
    const partitionedBy = from.info.partitionTree;
    const credentialKey = from.info.primaryKey.find((c) => !partitionedBy?.keyColumns.includes(c)) ?? from.info.primaryKey[0] ?? from.rule.columns[0]!;
    const unreferenceable = partitionedBy ? ledgerRefusal(from.name, partitionedBy, credentialKey) : undefined;
    if (unreferenceable) throw usageError(unreferenceable.problem, unreferenceable.fix);
    if (from.info.primaryKey.length !== 1) throw usageError(`${displayName(from.name)} needs a single-column primary key for the tenant_credentials ledger`, 'Add a primary key, or remove tenantCredentials from the spec.');
    const ledgerName = loaded.tenantCredentials.table;
    const existing = await findTable(session, ledgerName);
    // An existing table of that name is taken as the ledger (a re-run): one of another shape would fail half-way.
    const missing = ['credential_id', 'org_id', 'source', 'assigned_at'].filter((c) => !existing?.columns.some((x) => x.name === c));
    if (existing && missing.length > 0) {
      throw usageError(`${displayName(existing.name)} (spec field tenantCredentials.table) already exists and is not a tenant ledger: it has no ${missing.join(', ')}`,
        'Name another table in tenantCredentials.table, or rename or drop the existing one.');
    }
    const keyColumn = from.info.primaryKey[0]!;
    ledger = {
      name: existing?.name ?? { schema: ledgerName.schema ?? from.name.schema, name: ledgerName.name },
      from, keyColumn, keyType: column(from.info, keyColumn)!.type, exists: !!existing,
    };
  }
  const sharedTables: TableInfo[] = [];
  for (const [index, name] of loaded.sharedTables.entries()) {
    const info = await requireTable(session, `sharedTables[${index}]`, name);
    const migrated = tables.find((t) => t.info.oid === info.oid);
    if (migrated) throw usageError(`sharedTables[${index}] ${displayName(info.name)} is also in tables[${migrated.specIndex}]`, 'A table is either migrated (tables) or shared by every org (sharedTables): remove it from one of them.');
    sharedTables.push(info);
  }
  // Types go into SQL that runs with search_path = pg_catalog, pg_temp: each names its schema.
  const qualify = (type: string) => qualifiedType(session, type);
  const qualifiedTables: TableModel[] = [];
  for (const t of tables) qualifiedTables.push({ ...t, keyType: await qualify(t.keyType) });
  const withTypes = <T extends { keyType: string }>(x: T | undefined) => (x ? qualify(x.keyType).then((keyType) => ({ ...x, keyType })) : Promise.resolve(undefined));
  return {
    loaded, orgs: { name: orgsInfo.name, idColumn: spec.orgs.idColumn }, orgType: await qualify(orgType), defaultOrgId,
    mapping: mapping && { ...mapping, keyTypes: await Promise.all(mapping.keyTypes.map(qualify)) }, orgColumn: spec.orgColumn, tables: qualifiedTables,
    ledger: ledger && { ...(await withTypes(ledger))!, from: qualifiedTables.find((t) => t.name === ledger!.from.name)! },
    authHook: await resolveAuthHook(session, loaded),
    sharedTables,
  };
}

/** Refuses when the default org does not exist (the script checks again, so psql -f refuses too). */
export async function assertDefaultOrgExists(session: Session, model: MigrationModel): Promise<void> {
  const { rows } = await session.query(`SELECT 1 FROM ${quoteQualified(model.orgs.name)} WHERE ${quoteIdent(model.orgs.idColumn)} = $1::text::${model.orgType}`, [model.defaultOrgId]);
  if (rows.length === 0) throw refused(`The default org ${model.defaultOrgId} does not exist in ${displayName(model.orgs.name)}`, `Insert it (INSERT INTO ${displayName(model.orgs.name)} (${model.orgs.idColumn}, …) VALUES ('${model.defaultOrgId}', …)) or change defaultOrgId.`);
}
