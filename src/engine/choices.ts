// The spec's per-object choices, checked against the database: views switched to security_invoker and global unique
// constraints or indexes made per org. Names that are not what the choice needs are refused with what to write instead.
import { usageError } from './errors';
import type { Session } from './db/session';
import { derivedName, displayName, quoteIdent as qi, quoteQualified as qq, type QualifiedName } from './db/sql';
import type { LoadedSpec } from './migration-spec/load';
import type { TableModel } from './model';

type Resolved = Required<QualifiedName>;

export interface ViewChoice {
  readonly name: Resolved;
  readonly field: string;
}

export interface UniqueChoice {
  readonly field: string;
  /** The global unique index (a UNIQUE constraint's own index has the constraint's name). */
  readonly index: Resolved;
  readonly table: Resolved;
  /** The UNIQUE constraint the index belongs to, if any, and its deferrability. */
  readonly constraint?: { readonly deferrable: boolean; readonly deferred: boolean };
  /** The per-org constraint or index that replaces it, in the same schema. */
  readonly perOrgName: string;
  /** CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS of the per-org index: the original with the org column first. */
  readonly perOrgIndex: string;
}

export const perOrgName = (index: string) => derivedName('', { name: index }, '_per_org');

async function resolveView(session: Session, v: LoadedSpec['views'][number]): Promise<ViewChoice> {
  const { rows } = await session.query<{ schema: string; name: string; kind: string; version: number }>(
    `SELECT n.nspname AS schema, c.relname AS name, c.relkind::text AS kind, current_setting('server_version_num')::int AS version
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)`,
    [qq(v.name)],
  );
  const found = rows[0];
  if (!found)
    throw usageError(
      `Spec field ${v.field}: there is no view ${displayName(v.name)}`,
      'Name an existing view (schema-qualify it if it is not on the search_path), or remove it from "views".',
    );
  const name = { schema: found.schema, name: found.name };
  if (found.kind === 'm') {
    throw usageError(
      `Spec field ${v.field}: ${displayName(name)} is a materialized view, which has no security_invoker (it holds a copy of every org's rows, outside row-level security)`,
      `Remove it from "views". When isolation is enforced its SELECT is revoked from tenant roles; expose it through a view that filters on the org column if tenants need it.`,
    );
  }
  if (found.kind !== 'v')
    throw usageError(
      `Spec field ${v.field}: ${displayName(name)} is not a view`,
      'Only views can be switched to security_invoker: remove it from "views".',
    );
  if (found.version < 150000) {
    throw usageError(
      `Spec field ${v.field}: PostgreSQL ${Math.floor(found.version / 10000)} has no security_invoker views (PostgreSQL 15+)`,
      'Remove "views" from the spec: the enforce step revokes definer-rights views from tenant roles instead.',
    );
  }
  return { name, field: v.field };
}

async function resolveUnique(
  session: Session,
  u: LoadedSpec['uniques'][number],
  tables: readonly TableModel[],
  orgColumn: string,
): Promise<UniqueChoice | undefined> {
  const { rows } = await session.query<{
    schema: string;
    name: string;
    table: number;
    unique: boolean;
    primary: boolean;
    has_org: boolean;
    definition: string;
    constraint: boolean;
    deferrable: boolean;
    deferred: boolean;
    method: string;
    partitioned: boolean;
    prefix: string;
  }>(
    `SELECT n.nspname AS schema, ic.relname AS name, i.indrelid::int AS "table", i.indisunique AS unique, i.indisprimary AS primary,
            EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = i.indrelid AND a.attname = $2 AND a.attnum = ANY(i.indkey::int2[])) AS has_org,
            pg_get_indexdef(i.indexrelid) AS definition, con.oid IS NOT NULL AS constraint,
            coalesce(con.condeferrable, false) AS deferrable, coalesce(con.condeferred, false) AS deferred, am.amname AS method,
            t.relkind = 'p' AS partitioned,
            format('CREATE UNIQUE INDEX %s ON %s.%s USING %s (', quote_ident(ic.relname), quote_ident(tn.nspname), quote_ident(t.relname), am.amname) AS prefix
       FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_namespace n ON n.oid = ic.relnamespace JOIN pg_am am ON am.oid = ic.relam
       JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace tn ON tn.oid = t.relnamespace
       LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.contype = 'u' AND con.conrelid = i.indrelid
      WHERE i.indexrelid = to_regclass($1)`,
    [qq(u.name), orgColumn],
  );
  const found = rows[0];
  const hint =
    'Name a UNIQUE constraint or unique index of a migrated table by its schema-qualified index name (a constraint\'s index has its name), or remove it from "uniques".';
  if (!found) {
    // Swapped already: the per-org one stands in its place (its original is in the state schema, for rollback).
    const replaced = (
      await session.query<{ ok: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS ok`, [
        qq({ ...u.name, name: perOrgName(u.name.name) }),
      ])
    ).rows[0]!.ok;
    if (replaced) return undefined;
    throw usageError(`Spec field ${u.field}: there is no index ${displayName(u.name)}`, hint);
  }
  const index = { schema: found.schema, name: found.name };
  const table = tables.find((t) => t.info.oid === found.table);
  if (!table || !found.unique || found.primary)
    throw usageError(
      `Spec field ${u.field}: ${displayName(index)} is not a UNIQUE constraint or unique index of a migrated table`,
      hint,
    );
  if (found.partitioned) {
    throw usageError(
      `Spec field ${u.field}: ${displayName(index)} is on the partitioned table ${displayName(table.name)}: making it per org is not supported there yet`,
      'Remove it from "uniques"; after the migration build the per-org index on each partition and on the parent (ON ONLY + ATTACH) yourself.',
    );
  }
  // The migration re-reads the index after its swap: a per-org one is done, and its original is in the state schema.
  if (found.has_org) return undefined;
  const prefix = found.prefix;
  if (!found.definition.startsWith(prefix) || found.method !== 'btree') {
    throw usageError(
      `Spec field ${u.field}: ${displayName(index)} (${found.definition}) cannot be rebuilt with the org column first by the tool`,
      'Remove it from "uniques" and replace it by hand after the migration.',
    );
  }
  const perOrg = perOrgName(found.name);
  return {
    field: u.field,
    index,
    table: table.name,
    perOrgName: perOrg,
    constraint: found.constraint ? { deferrable: found.deferrable, deferred: found.deferred } : undefined,
    perOrgIndex: `CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ${qi(perOrg)} ON ${qq(table.name)} USING btree (${qi(orgColumn)}, ${found.definition.slice(prefix.length)};`,
  };
}

export async function resolveChoices(
  session: Session,
  loaded: LoadedSpec,
  tables: readonly TableModel[],
  orgColumn: string,
): Promise<{ views: ViewChoice[]; uniques: UniqueChoice[] }> {
  const views: ViewChoice[] = [];
  for (const v of loaded.views) views.push(await resolveView(session, v));
  const uniques: UniqueChoice[] = [];
  for (const u of loaded.uniques) {
    const choice = await resolveUnique(session, u, tables, orgColumn);
    if (choice) uniques.push(choice);
  }
  return { views, uniques };
}
