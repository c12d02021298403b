// What the lint reads from the connected database: estimated rows per table (lock rules skip small tables), which
// tables are partitioned (and their leaves), their row-level security, and the columns a validated CHECK (col IS NOT NULL) proves.
import type { Session } from '../../db/session';
import type { TableFacts } from './types';

export interface LintCatalog {
  readonly tableRows: Map<string, number>;
  readonly tables: Map<string, TableFacts>;
}

export async function readLintCatalog(session: Session): Promise<LintCatalog> {
  const { rows } = await session.query<{
    schema: string;
    name: string;
    rows: number;
    partitioned: boolean;
    rls: boolean;
    forced: boolean;
    checked: string[] | null;
    leaves: string[] | null;
  }>(
    // reltuples is -1 until the table is first analyzed: then a rough count from its size (about 60 rows a page).
    `SELECT n.nspname AS schema, c.relname AS name,
            (CASE WHEN c.reltuples >= 0 THEN c.reltuples ELSE pg_relation_size(c.oid) / 8192 * 60 END)::float8 AS rows,
            c.relkind = 'p' AS partitioned, c.relrowsecurity AS rls, c.relforcerowsecurity AS forced,
            (SELECT array_agg(a.attname::text) FROM pg_constraint k JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
              WHERE k.conrelid = c.oid AND k.contype = 'c' AND k.convalidated AND cardinality(k.conkey) = 1
                AND pg_get_constraintdef(k.oid) = format('CHECK ((%s IS NOT NULL))', quote_ident(a.attname))) AS checked,
            CASE WHEN c.relkind = 'p' THEN ARRAY(SELECT ln.nspname || '.' || l.relname FROM pg_partition_tree(c.oid) t JOIN pg_class l ON l.oid = t.relid
                                                 JOIN pg_namespace ln ON ln.oid = l.relnamespace WHERE t.isleaf ORDER BY 1) END AS leaves
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')`,
  );
  const tableRows = new Map<string, number>();
  const tables = new Map<string, TableFacts>();
  for (const r of rows) {
    const facts: TableFacts = {
      partitioned: r.partitioned,
      rlsEnabled: r.rls,
      rlsForced: r.forced,
      notNullChecked: r.checked ?? [],
      ...(r.leaves ? { leaves: r.leaves } : {}),
    };
    tableRows.set(`${r.schema}.${r.name}`, r.rows);
    tables.set(`${r.schema}.${r.name}`, facts);
    if (r.schema === 'public' || !tableRows.has(r.name)) {
      tableRows.set(r.name, r.rows);
      tables.set(r.name, facts);
    }
  }
  return { tableRows, tables };
}
