// Reads what the migration needs to know about the spec's tables from the catalog. All values are bound.
import type { Session } from './db/session';
import { displayName, quoteQualified, type QualifiedName } from './db/sql';
import { isLeaf, readPartitionTree, type PartitionTree } from './partitions';
import { rowEstimate } from './row-estimate';

export interface ColumnInfo {
  readonly name: string;
  readonly type: string;
  readonly notNull: boolean;
  readonly identity: '' | 'a' | 'd';
  readonly generated: boolean;
}

export interface PolicyInfo {
  readonly name: string;
  readonly permissive: boolean;
  readonly command: string;
  readonly roles: string[];
}

export interface ForeignKeyInfo {
  readonly name: string;
  readonly columns: string[];
  readonly referencedTable: QualifiedName;
  readonly referencedColumns: string[];
}

export interface TableInfo {
  readonly oid: number;
  readonly name: Required<QualifiedName>;
  readonly columns: ColumnInfo[];
  readonly primaryKey: string[];
  readonly rlsEnabled: boolean;
  readonly rlsForced: boolean;
  readonly policies: PolicyInfo[];
  readonly foreignKeys: ForeignKeyInfo[];
  readonly estimatedRows: number;
  readonly totalBytes: number;
  readonly owner: string;
  /** Set for a partitioned table: its partitions. Rows and bytes above are summed over them. */
  readonly partitionTree?: PartitionTree;
}

export function column(table: TableInfo, name: string): ColumnInfo | undefined {
  return table.columns.find((c) => c.name === name);
}

/** Resolves a spec name the way PostgreSQL would (search_path for unqualified names); undefined when missing. */
export async function findTable(session: Session, name: QualifiedName): Promise<TableInfo | undefined> {
  const { rows } = await session.query<{
    oid: number;
    schema: string;
    name: string;
    relkind: string;
    rls: boolean;
    force: boolean;
    reltuples: number;
    bytes: string;
    owner: string;
  }>(
    `SELECT c.oid::int AS oid, n.nspname AS schema, c.relname AS name, c.relkind::text AS relkind,
            c.relrowsecurity AS rls, c.relforcerowsecurity AS force, c.reltuples::float8 AS reltuples,
            pg_total_relation_size(c.oid)::text AS bytes, pg_get_userbyid(c.relowner) AS owner
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.oid = to_regclass($1)`,
    [quoteQualified(name)],
  );
  const row = rows[0];
  if (!row || !['r', 'p'].includes(row.relkind)) return undefined;
  const columns = await session.query<ColumnInfo>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS "notNull",
              a.attidentity::text AS identity, a.attgenerated <> '' AS generated
         FROM pg_attribute a WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [row.oid],
  );
  const primaryKey = await session.query<{ name: string }>(
    `SELECT a.attname AS name FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, ord)
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
        WHERE i.indrelid = $1 AND i.indisprimary ORDER BY k.ord`,
    [row.oid],
  );
  const policies = await session.query<PolicyInfo>(
    `SELECT polname AS name, polpermissive AS permissive, polcmd::text AS command,
              ARRAY(SELECT CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r)::text END FROM unnest(polroles) r)::text[] AS roles
         FROM pg_policy WHERE polrelid = $1 ORDER BY polname`,
    [row.oid],
  );
  const foreignKeys = await session.query<{
    name: string;
    columns: string[];
    schema: string;
    table: string;
    refcolumns: string[];
  }>(
    `SELECT con.conname AS name,
              ARRAY(SELECT attname FROM unnest(con.conkey) WITH ORDINALITY k(n, o) JOIN pg_attribute ON attrelid = con.conrelid AND attnum = k.n ORDER BY o)::text[] AS columns,
              rn.nspname AS schema, rc.relname AS table,
              ARRAY(SELECT attname FROM unnest(con.confkey) WITH ORDINALITY k(n, o) JOIN pg_attribute ON attrelid = con.confrelid AND attnum = k.n ORDER BY o)::text[] AS refcolumns
         FROM pg_constraint con JOIN pg_class rc ON rc.oid = con.confrelid JOIN pg_namespace rn ON rn.oid = rc.relnamespace
        WHERE con.conrelid = $1 AND con.contype = 'f' ORDER BY con.conname`,
    [row.oid],
  );
  const partitionTree = row.relkind === 'p' ? await readPartitionTree(session, row.oid) : undefined;
  const summed = (own: number, of: (p: PartitionTree['partitions'][number]) => number) =>
    partitionTree ? partitionTree.partitions.filter(isLeaf).reduce((n, p) => n + of(p), 0) : own;
  return {
    oid: row.oid,
    name: { schema: row.schema, name: row.name },
    columns: columns.rows,
    primaryKey: primaryKey.rows.map((r) => r.name),
    rlsEnabled: row.rls,
    rlsForced: row.force,
    policies: policies.rows,
    foreignKeys: foreignKeys.rows.map((fk) => ({
      name: fk.name,
      columns: fk.columns,
      referencedTable: { schema: fk.schema, name: fk.table },
      referencedColumns: fk.refcolumns,
    })),
    estimatedRows: partitionTree
      ? summed(0, (p) => p.estimatedRows)
      : await rowEstimate(session, { schema: row.schema, name: row.name }, row.reltuples, Number(row.bytes), row.rls),
    totalBytes: summed(Number(row.bytes), (p) => p.totalBytes),
    owner: row.owner,
    partitionTree,
  };
}

export function sameTable(a: QualifiedName, b: QualifiedName): boolean {
  return a.name === b.name && (a.schema === undefined || b.schema === undefined || a.schema === b.schema);
}

export function describeTable(table: { name: QualifiedName }): string {
  return displayName(table.name);
}
