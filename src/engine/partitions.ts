// Declaratively partitioned tables: the partition tree as the catalog has it, and what the migration cannot do there.
import type { Session } from './db/session';
import { displayName, type QualifiedName } from './db/sql';

type Resolved = Required<QualifiedName>;

export interface PartitionInfo {
  readonly name: Resolved;
  /** The partitioned table it is a partition of (the root or an intermediate level). */
  readonly parent: Resolved;
  readonly level: number;
  /** A leaf holds rows (relkind r); otherwise it is partitioned again (relkind p) or a foreign table (f). */
  readonly relkind: 'r' | 'p' | 'f';
  readonly estimatedRows: number;
  readonly totalBytes: number;
  readonly owner: string;
}

export interface PartitionTree {
  /** Every partition below the root, parents before their partitions. */
  readonly partitions: PartitionInfo[];
  /** The columns of the root's and every sub-level's partition key; an expression in a key is listed as its text. */
  readonly keyColumns: string[];
}

export const isLeaf = (p: PartitionInfo) => p.relkind === 'r';

/** The partition tree of a partitioned table (relkind p), read from pg_partition_tree. */
export async function readPartitionTree(session: Session, oid: number): Promise<PartitionTree> {
  const { rows } = await session.query<{
    schema: string;
    name: string;
    parent_schema: string;
    parent_name: string;
    level: number;
    relkind: 'r' | 'p' | 'f';
    reltuples: number;
    bytes: string;
    owner: string;
  }>(
    `SELECT n.nspname AS schema, c.relname AS name, pn.nspname AS parent_schema, pc.relname AS parent_name, t.level,
            c.relkind::text AS relkind, c.reltuples::float8 AS reltuples, pg_total_relation_size(c.oid)::text AS bytes,
            pg_get_userbyid(c.relowner) AS owner
       FROM pg_partition_tree($1::oid::regclass) t
       JOIN pg_class c ON c.oid = t.relid JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_class pc ON pc.oid = t.parentrelid JOIN pg_namespace pn ON pn.oid = pc.relnamespace
      WHERE t.level > 0 ORDER BY t.level, n.nspname, c.relname`,
    [oid],
  );
  const keys = await session.query<{ column: string }>(
    `SELECT DISTINCT coalesce(a.attname::text, pg_get_partkeydef(p.partrelid)) AS column
       FROM pg_partition_tree($1::oid::regclass) t JOIN pg_partitioned_table p ON p.partrelid = t.relid
       CROSS JOIN LATERAL unnest(p.partattrs::int2[]) AS k(attnum)
       LEFT JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = k.attnum AND k.attnum > 0`,
    [oid],
  );
  return {
    partitions: rows.map((r) => ({
      name: { schema: r.schema, name: r.name },
      parent: { schema: r.parent_schema, name: r.parent_name },
      level: r.level,
      relkind: r.relkind,
      estimatedRows: Math.max(0, Math.round(r.reltuples)),
      totalBytes: Number(r.bytes),
      owner: r.owner,
    })),
    keyColumns: keys.rows.map((r) => r.column),
  };
}

/** What the migration cannot do on a partitioned table, each naming the object and the fix (empty: it can). */
export function partitionRefusals(
  table: Resolved,
  tree: PartitionTree,
  orgColumn: string,
): { problem: string; fix: string }[] {
  const refusals: { problem: string; fix: string }[] = [];
  for (const p of tree.partitions.filter((x) => x.relkind === 'f')) {
    refusals.push({
      problem: `${displayName(p.name)} is a foreign-table partition of ${displayName(table)}: it cannot be backfilled, indexed or given row-level security here`,
      fix: `Detach it (ALTER TABLE ${displayName(p.parent)} DETACH PARTITION ${displayName(p.name)}) and migrate its server's table on its own, or leave ${displayName(table)} out of the spec.`,
    });
  }
  if (tree.keyColumns.includes(orgColumn)) {
    refusals.push({
      problem: `${displayName(table)} is partitioned by ${orgColumn}, the column the migration fills in: the backfill would move rows between partitions`,
      fix: `Set "orgColumn" in the spec to another name, or repartition ${displayName(table)} by another key first.`,
    });
  }
  return refusals;
}

/** The ledger's foreign key needs a unique constraint on the credential key alone, which a table partitioned by anything else cannot have. */
export function ledgerRefusal(
  from: Resolved,
  tree: PartitionTree,
  keyColumn: string,
): { problem: string; fix: string } | undefined {
  const others = tree.keyColumns.filter((c) => c !== keyColumn);
  if (others.length === 0) return undefined;
  return {
    problem:
      `${displayName(from)} (tenantCredentials.from) is partitioned by ${others.join(', ')}, not by its key ${keyColumn} alone: ` +
      `no unique constraint on ${keyColumn} alone can exist there, so the tenant_credentials ledger cannot reference it with a foreign key`,
    fix: `Remove tenantCredentials from the spec, or point tenantCredentials.from at a table that is not partitioned (or partitioned by ${keyColumn}).`,
  };
}
