// The spec checked against the database: every name resolved, every type known, tables in parent-first order.
import { usageError, refused } from './errors';
import type { Session } from './db/session';
import { displayName, quoteIdent, quoteQualified, type QualifiedName } from './db/sql';
import { findTable, column, sameTable, type TableInfo } from './introspect';
import type { LoadedSpec } from './migration-spec/load';
import { columnsOf } from './migration-spec/schema';
import { ledgerRefusal } from './partitions';
import { qualifiedType } from './script/qualify';
import { resolveAuthHook, type AuthHookModel } from './auth-hook';
import { resolveChoices, type UniqueChoice, type ViewChoice } from './choices';
import { requireColumn, requireTable, resolveTable, sameType } from './table-rules';

type Resolved = Required<QualifiedName>;

export type OrgRule =
  /** `columns`: one, or several for a composite key, paired in order with the mapping table's keyColumns. */
  | { readonly kind: 'mapping'; readonly columns: readonly string[] }
  /** `parentMigrated` false: the spec does not migrate the parent; its org column is read as it is (never written). */
  | {
      readonly kind: 'parent';
      readonly columns: readonly string[];
      readonly parent: Resolved;
      readonly references: readonly string[];
      readonly parentMigrated: boolean;
    }
  /** `sql` names every relation, function and type with its schema (resolved when the model was read); `relations` are those it reads. */
  | {
      readonly kind: 'query';
      readonly columns: readonly [string];
      readonly sql: string;
      readonly relations: readonly Resolved[];
    };

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
  readonly mapping?: {
    readonly name: Resolved;
    readonly keyColumns: readonly string[];
    readonly orgColumn: string;
    readonly keyTypes: readonly string[];
  };
  readonly orgColumn: string;
  /** Parents before children. */
  readonly tables: readonly TableModel[];
  readonly ledger?: {
    readonly name: Resolved;
    readonly from: TableModel;
    readonly keyColumn: string;
    readonly keyType: string;
    readonly exists: boolean;
  };
  readonly authHook?: AuthHookModel;
  /** Reference data every org reads: not migrated. */
  readonly sharedTables: readonly TableInfo[];
  /** Views the spec switches to security_invoker. */
  readonly views: readonly ViewChoice[];
  /** Global unique constraints and indexes the spec makes per org (those not yet replaced). */
  readonly uniques: readonly UniqueChoice[];
}

async function checkDefaultOrg(session: Session, orgType: string, defaultOrgId: string): Promise<void> {
  try {
    await session.query(`SELECT $1::text::${orgType}`, [defaultOrgId]);
  } catch {
    throw usageError(
      `defaultOrgId "${defaultOrgId}" is not a valid ${orgType}, the type of the orgs id column`,
      `Write a ${orgType} value that is the id of an existing org.`,
    );
  }
}

function parentFirst(tables: TableModel[]): TableModel[] {
  const ordered: TableModel[] = [];
  const visiting = new Set<TableModel>();
  const visit = (t: TableModel) => {
    if (ordered.includes(t)) return;
    if (visiting.has(t))
      throw usageError(
        `tables[${t.specIndex}].orgFrom.parent forms a cycle`,
        'A table cannot take its org from itself, directly or through others.',
      );
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
    const keyTypes = keyColumns.map((c, i) =>
      requireColumn(info, c, `mapping.keyColumn${Array.isArray(spec.mapping!.keyColumn) ? `[${i}]` : ''}`),
    );
    const mappedOrgType = requireColumn(info, spec.mapping.orgColumn, 'mapping.orgColumn');
    if (!sameType(mappedOrgType, orgType))
      throw usageError(
        `mapping.orgColumn ${displayName(info.name)}.${spec.mapping.orgColumn} is ${mappedOrgType} but the orgs id is ${orgType}`,
        "Make the mapping table's org column the same type as the orgs id.",
      );
    mapping = { name: info.name, keyColumns, orgColumn: spec.mapping.orgColumn, keyTypes };
  }
  const models: TableModel[] = [];
  for (const table of loaded.tables)
    models.push(await resolveTable(session, loaded, table, orgType, spec.orgColumn, mapping?.keyTypes));
  for (const t of models) {
    if (sameTable(t.name, orgsInfo.name))
      throw usageError(`tables[${t.specIndex}] is the orgs table itself`, 'Remove the orgs table from "tables".');
  }
  const tables = parentFirst(models);
  let ledger: MigrationModel['ledger'];
  if (loaded.tenantCredentials) {
    const from = tables.find((t) => sameTable(t.name, loaded.tenantCredentials!.from));
    if (!from)
      throw usageError(
        `tenantCredentials.from ${displayName(loaded.tenantCredentials.from)} is not one of the spec's tables`,
        'Point it at the migrated credentials table.',
      );
    const partitionedBy = from.info.partitionTree;
    const credentialKey =
      from.info.primaryKey.find((c) => !partitionedBy?.keyColumns.includes(c)) ??
      from.info.primaryKey[0] ??
      from.rule.columns[0]!;
    const unreferenceable = partitionedBy ? ledgerRefusal(from.name, partitionedBy, credentialKey) : undefined;
    if (unreferenceable) throw usageError(unreferenceable.problem, unreferenceable.fix);
    if (from.info.primaryKey.length !== 1)
      throw usageError(
        `${displayName(from.name)} needs a single-column primary key for the tenant_credentials ledger`,
        'Add a primary key, or remove tenantCredentials from the spec.',
      );
    const ledgerName = loaded.tenantCredentials.table;
    const existing = await findTable(session, ledgerName);
    // An existing table of that name is taken as the ledger (a re-run): one of another shape would fail half-way.
    const missing = ['credential_id', 'org_id', 'source', 'assigned_at'].filter(
      (c) => !existing?.columns.some((x) => x.name === c),
    );
    if (existing && missing.length > 0) {
      throw usageError(
        `${displayName(existing.name)} (spec field tenantCredentials.table) already exists and is not a tenant ledger: it has no ${missing.join(', ')}`,
        'Name another table in tenantCredentials.table, or rename or drop the existing one.',
      );
    }
    const keyColumn = from.info.primaryKey[0]!;
    ledger = {
      name: existing?.name ?? { schema: ledgerName.schema ?? from.name.schema, name: ledgerName.name },
      from,
      keyColumn,
      keyType: column(from.info, keyColumn)!.type,
      exists: !!existing,
    };
  }
  const sharedTables: TableInfo[] = [];
  for (const [index, name] of loaded.sharedTables.entries()) {
    const info = await requireTable(session, `sharedTables[${index}]`, name);
    const migrated = tables.find((t) => t.info.oid === info.oid);
    if (migrated)
      throw usageError(
        `sharedTables[${index}] ${displayName(info.name)} is also in tables[${migrated.specIndex}]`,
        'A table is either migrated (tables) or shared by every org (sharedTables): remove it from one of them.',
      );
    sharedTables.push(info);
  }
  // Types go into SQL that runs with search_path = pg_catalog, pg_temp: each names its schema.
  const qualify = (type: string) => qualifiedType(session, type);
  const qualifiedTables: TableModel[] = [];
  for (const t of tables) qualifiedTables.push({ ...t, keyType: await qualify(t.keyType) });
  const withTypes = <T extends { keyType: string }>(x: T | undefined) =>
    x ? qualify(x.keyType).then((keyType) => ({ ...x, keyType })) : Promise.resolve(undefined);
  return {
    loaded,
    orgs: { name: orgsInfo.name, idColumn: spec.orgs.idColumn },
    orgType: await qualify(orgType),
    defaultOrgId,
    mapping: mapping && { ...mapping, keyTypes: await Promise.all(mapping.keyTypes.map(qualify)) },
    orgColumn: spec.orgColumn,
    tables: qualifiedTables,
    ledger: ledger && {
      ...(await withTypes(ledger))!,
      from: qualifiedTables.find((t) => t.name === ledger!.from.name)!,
    },
    authHook: await resolveAuthHook(session, loaded),
    sharedTables,
    ...(await resolveChoices(session, loaded, qualifiedTables, spec.orgColumn)),
  };
}

/** Refuses when the default org does not exist (the script checks again, so psql -f refuses too). */
export async function assertDefaultOrgExists(session: Session, model: MigrationModel): Promise<void> {
  const { rows } = await session.query(
    `SELECT 1 FROM ${quoteQualified(model.orgs.name)} WHERE ${quoteIdent(model.orgs.idColumn)} = $1::text::${model.orgType}`,
    [model.defaultOrgId],
  );
  if (rows.length === 0)
    throw refused(
      `The default org ${model.defaultOrgId} does not exist in ${displayName(model.orgs.name)}`,
      `Insert it (INSERT INTO ${displayName(model.orgs.name)} (${model.orgs.idColumn}, …) VALUES ('${model.defaultOrgId}', …)) or change defaultOrgId.`,
    );
}
