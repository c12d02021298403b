// Inheritance (not partitions): the backfill, the foreign keys and the policies would reach the children's rows
// through the parent, while the children themselves stay unmigrated.
import { displayName, quoteQualified as qq } from '../db/sql';
import { byOid, tableOids, type ShapeDetector } from './finding';

export const inheritance: ShapeDetector = async (session, model) => {
  const { rows } = await session.query<{ parent: number; child_schema: string; child: string; inherits: boolean }>(
    `SELECT i.inhparent::int AS parent, n.nspname AS child_schema, c.relname AS child, false AS inherits
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE i.inhparent = ANY($1::oid[]) AND NOT c.relispartition
     UNION ALL
     SELECT i.inhrelid::int, n.nspname, c.relname, true
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhparent JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_class me ON me.oid = i.inhrelid
      WHERE i.inhrelid = ANY($1::oid[]) AND NOT me.relispartition
      ORDER BY 1, 2, 3`,
    [tableOids(model)],
  );
  return rows.map((r) => {
    const migrated = byOid(model, r.parent).name;
    const otherName = { schema: r.child_schema, name: r.child };
    const table = displayName(migrated);
    const other = displayName(otherName);
    return r.inherits
      ? {
          kind: 'inheritance' as const,
          table,
          object: other,
          blocking: true,
          message: `${table} inherits from ${other} (table inheritance): a query on ${other} reads ${table}'s rows, which the migration does not cover from there`,
          fix: `Table inheritance is not supported: make ${other} a partitioned table, or detach ${table} (ALTER TABLE ${qq(migrated)} NO INHERIT ${qq(otherName)}; the application then no longer sees its rows through ${other}).`,
        }
      : {
          kind: 'inheritance' as const,
          table,
          object: other,
          blocking: true,
          message: `${other} inherits from ${table} (table inheritance): the backfill, the foreign key and the policies on ${table} would reach ${other}'s rows while ${other} itself stays unmigrated`,
          fix: `Table inheritance is not supported: convert ${table} to a partitioned table with ${other} as a partition, or detach the child (ALTER TABLE ${qq(otherName)} NO INHERIT ${qq(migrated)}; queries on ${table} then no longer return its rows).`,
        };
  });
};
