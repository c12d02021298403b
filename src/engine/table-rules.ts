// A spec table checked against the database: its name resolved, its org rule's columns and types matched to the
// mapping, the parent or the query it takes its org from.
import { failed, usageError } from './errors';
import { SQLSTATE, hasSqlState } from './db/pg-errors';
import type { Session } from './db/session';
import { displayName, parseQualifiedName, type QualifiedName } from './db/sql';
import { column, findTable, sameTable, type TableInfo } from './introspect';
import type { LoadedSpec, ResolvedTable } from './migration-spec/load';
import { columnsOf } from './migration-spec/schema';
import { keyLabel, pairKeyType } from './key-columns';
import { partitionRefusals } from './partitions';
import { qualifyQuery } from './script/qualify';
import type { TableModel } from './model';

export async function requireTable(session: Session, field: string, name: QualifiedName): Promise<TableInfo> {
  const info = await findTable(session, name);
  if (!info)
    throw usageError(
      `Table ${displayName(name)} (spec field ${field}) does not exist in ${session.target.database}`,
      'Create it, or fix the name in the spec (schema-qualify it if it is not on the search_path).',
    );
  return info;
}

export function requireColumn(info: TableInfo, columnName: string, field: string): string {
  const found = column(info, columnName);
  if (!found) {
    const known = info.columns
      .map((c) => c.name)
      .slice(0, 12)
      .join(', ');
    throw usageError(
      `Column "${columnName}" (spec field ${field}) does not exist in ${displayName(info.name)}`,
      `Use one of its columns: ${known}.`,
    );
  }
  return found.type;
}

export function sameType(a: string, b: string): boolean {
  const base = (t: string) => t.replace(/\(.*\)$/, '');
  return base(a) === base(b);
}

async function queryTypes(session: Session, sql: string, field: string): Promise<{ key: string; org: string }> {
  try {
    return await session.transaction(async () => {
      const result = await session.query(`SELECT q.key, q.org_id FROM (${sql}) AS q LIMIT 0`);
      const typeOf = async (oid: number) =>
        (await session.query<{ t: string }>('SELECT format_type($1, NULL) AS t', [oid])).rows[0]!.t;
      return { key: await typeOf(result.fields[0]!.dataTypeID), org: await typeOf(result.fields[1]!.dataTypeID) };
    }, 'READ ONLY');
  } catch (e) {
    if (hasSqlState(e, SQLSTATE.insufficientPrivilege)) {
      throw failed(
        `The query in ${field} is not allowed for this user: ${(e as Error).message}`,
        'Run as the owner of the tables (Supabase: postgres), or GRANT SELECT on the tables the query reads.',
      );
    }
    throw usageError(
      `The query in ${field} fails: ${(e as Error).message}`,
      'It must return two columns named key and org_id, for example SELECT user_id AS key, org_id FROM org_members.',
    );
  }
}

/** The parent's columns a child key points to: the foreign key from exactly these columns to the parent, else its primary key. */
function defaultReferences(info: TableInfo, parentInfo: TableInfo, columns: readonly string[]): string[] | undefined {
  const fk = info.foreignKeys.find(
    (f) =>
      sameTable(f.referencedTable, parentInfo.name) &&
      f.columns.length === columns.length &&
      columns.every((c) => f.columns.includes(c)),
  );
  if (fk) return columns.map((c) => fk.referencedColumns[fk.columns.indexOf(c)]!);
  // Several columns are paired by a foreign key or by the spec: never by position against a primary key's order.
  return columns.length === 1 && parentInfo.primaryKey.length === 1 ? parentInfo.primaryKey : undefined;
}

/** Why a parent the spec does not migrate cannot give its org, and the spec entry that would migrate it (its own parent, when it has one that is migrated). */
function unmigratedParentFix(loaded: LoadedSpec, parentInfo: TableInfo): string {
  const grandparent = parentInfo.foreignKeys.find((f) =>
    loaded.tables.some((t) => sameTable(t.name, f.referencedTable)),
  );
  const entry = grandparent
    ? `{ "name": "${displayName(parentInfo.name)}", "orgFrom": { "parent": { "table": "${displayName(grandparent.referencedTable)}", "column": ${JSON.stringify(grandparent.columns.length === 1 ? grandparent.columns[0] : grandparent.columns)} } } }`
    : `{ "name": "${displayName(parentInfo.name)}", "orgFrom": { ... } }`;
  return `Add the parent table to "tables" so it gets its org first: ${entry}.`;
}

async function resolveParentRule(
  session: Session,
  loaded: LoadedSpec,
  table: ResolvedTable,
  info: TableInfo,
  orgType: string,
  orgColumn: string,
): Promise<TableModel> {
  const field = `tables[${table.index}].orgFrom.parent`;
  const spec = (
    table.spec.orgFrom as { parent: { table: string; column: string | string[]; references?: string | string[] } }
  ).parent;
  const list = Array.isArray(spec.column);
  const columns = columnsOf(spec.column);
  const at = (name: string, i: number) => `${field}.${name}${list ? `[${i}]` : ''}`;
  const types = columns.map((c, i) => requireColumn(info, c, at('column', i)));
  const parentName = parseQualifiedName(spec.table);
  const parentInfo = await requireTable(
    session,
    `${field}.table`,
    loaded.tables.find((t) => t.spec.name === spec.table)?.name ?? parentName,
  );
  const parentMigrated = loaded.tables.some((t) => t.spec.name === spec.table || sameTable(t.name, parentInfo.name));
  if (!parentMigrated) {
    const own = column(parentInfo, orgColumn);
    if (!own || !sameType(own.type, orgType)) {
      throw usageError(
        `${field}.table ${displayName(parentInfo.name)} is not one of the spec's tables and has no ${orgColumn} column of type ${orgType} to read the org from`,
        unmigratedParentFix(loaded, parentInfo),
      );
    }
  }
  const references =
    spec.references === undefined ? defaultReferences(info, parentInfo, columns) : columnsOf(spec.references);
  if (!references) {
    throw usageError(
      columns.length === 1
        ? `${displayName(parentInfo.name)} has no single-column primary key for ${field} to reference`
        : `${displayName(info.name)} has no foreign key from ${keyLabel(columns)} to ${displayName(parentInfo.name)} to pair the columns of ${field} with`,
      `Set ${field}.references to the parent column${columns.length === 1 ? ' the child column points' : 's the child columns point'} to${columns.length === 1 ? '' : `, in the same order (for example ${JSON.stringify(parentInfo.primaryKey)})`}.`,
    );
  }
  references.forEach((r, i) => {
    const referencedType = requireColumn(
      parentInfo,
      r,
      spec.references === undefined ? `${field}.references (default)` : at('references', i),
    );
    if (!sameType(referencedType, types[i]!))
      throw usageError(
        `${displayName(info.name)}.${columns[i]} is ${types[i]} but ${displayName(parentInfo.name)}.${r} is ${referencedType}`,
        'Point orgFrom.parent at columns of the same type.',
      );
  });
  return {
    name: info.name,
    specIndex: table.index,
    info,
    rule: { kind: 'parent', columns, parent: parentInfo.name, references, parentMigrated },
    keyType: types[0]!,
  };
}

export async function resolveTable(
  session: Session,
  loaded: LoadedSpec,
  table: ResolvedTable,
  orgType: string,
  orgColumn: string,
  mappingKeyTypes?: readonly string[],
): Promise<TableModel> {
  const field = `tables[${table.index}]`;
  const info = await requireTable(session, `${field}.name`, table.name);
  const refusal = info.partitionTree ? partitionRefusals(info.name, info.partitionTree, orgColumn)[0] : undefined;
  if (refusal) throw usageError(`${field}: ${refusal.problem}`, refusal.fix);
  const existingOrg = column(info, orgColumn);
  if (existingOrg && !sameType(existingOrg.type, orgType)) {
    throw usageError(
      `${displayName(info.name)} already has a column "${orgColumn}" of type ${existingOrg.type}, not ${orgType}`,
      'Rename that column, or set "orgColumn" in the spec to another name.',
    );
  }
  const orgFrom = table.spec.orgFrom;
  if ('mapping' in orgFrom) {
    const list = Array.isArray(orgFrom.mapping.column);
    const columns = columnsOf(orgFrom.mapping.column);
    const keyColumns = columnsOf(loaded.spec.mapping!.keyColumn);
    const types = columns.map((c, i) =>
      requireColumn(info, c, `${field}.orgFrom.mapping.column${list ? `[${i}]` : ''}`),
    );
    types.forEach((keyType, i) => {
      if (mappingKeyTypes && !sameType(keyType, mappingKeyTypes[i]!)) {
        throw usageError(
          `${displayName(info.name)}.${columns[i]} is ${keyType} but the mapping key ${keyColumns[i]} is ${mappingKeyTypes[i]}`,
          "Make the mapping table's key column the same type as the column it maps.",
        );
      }
    });
    return {
      name: info.name,
      specIndex: table.index,
      info,
      rule: { kind: 'mapping', columns },
      keyType: pairKeyType(types),
    };
  }
  if ('parent' in orgFrom) return resolveParentRule(session, loaded, table, info, orgType, orgColumn);
  const keyType = requireColumn(info, orgFrom.query.column, `${field}.orgFrom.query.column`);
  const query = await qualifyQuery(session, orgFrom.query.sql, `${field}.orgFrom.query.sql`);
  const types = await queryTypes(session, query.sql, `${field}.orgFrom.query.sql`);
  if (!sameType(types.key, keyType))
    throw usageError(
      `The query in ${field}.orgFrom.query.sql returns key as ${types.key} but ${displayName(info.name)}.${orgFrom.query.column} is ${keyType}`,
      "Cast the key in the query to the column's type.",
    );
  if (!sameType(types.org, orgType))
    throw usageError(
      `The query in ${field}.orgFrom.query.sql returns org_id as ${types.org}, not ${orgType}`,
      'Cast org_id in the query to the orgs id type.',
    );
  return {
    name: info.name,
    specIndex: table.index,
    info,
    rule: { kind: 'query', columns: [orgFrom.query.column], sql: query.sql, relations: query.relations },
    keyType,
  };
}
