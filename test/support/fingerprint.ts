// Fingerprints of a database for "nothing changed" and "back to exactly this" assertions.
import type pg from 'pg';
import { DEFINER_ROLE } from '../../src/engine/names';

/**
 * An ACL as text: its entries sorted (their order means nothing, and a re-run that revokes and grants again changes it),
 * this database's definer role under one name (its suffix differs from database to database).
 */
export const acl = (column: string) =>
  `replace(array_to_string(ARRAY(SELECT e::text FROM unnest(${column}) AS e ORDER BY 1), ','), ${DEFINER_ROLE}, 'tenant_migration_definer')`;

/** Schema objects of the given schemas: columns, constraints, indexes, triggers, policies, RLS flags, identities, grants. */
export async function schemaFingerprint(client: pg.ClientBase, schemas = ['public']): Promise<string[]> {
  const { rows } = await client.query<{ line: string }>(
    `
    SELECT format('column %s.%s %s %s notnull=%s identity=%s default=%s', n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attidentity, pg_get_expr(d.adbin, d.adrelid)) AS line
      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT format('constraint %s.%s %s %s validated=%s', n.nspname, c.relname, con.conname, pg_get_constraintdef(con.oid), con.convalidated)
      FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY($1)
    UNION ALL
    SELECT format('index %s', pg_get_indexdef(i.indexrelid)) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY($1)
    UNION ALL
    SELECT format('trigger %s', pg_get_triggerdef(t.oid)) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY($1) AND NOT t.tgisinternal
    UNION ALL
    SELECT format('policy %s.%s %s %s %s %s using=%s check=%s', schemaname, tablename, policyname, permissive, cmd, roles, qual, with_check) FROM pg_policies WHERE schemaname = ANY($1)
    UNION ALL
    SELECT format('table %s.%s rls=%s force=%s', n.nspname, c.relname, c.relrowsecurity, c.relforcerowsecurity) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p')
    UNION ALL
    SELECT format('sequence %s.%s', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY($1) AND c.relkind = 'S'
    UNION ALL
    SELECT format('function %s.%s', n.nspname, p.oid::regprocedure) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = ANY($1)
    UNION ALL
    SELECT format('grants on %s.%s: %s', n.nspname, c.relname, ${acl('c.relacl')}) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY($1) AND c.relacl IS NOT NULL
    UNION ALL
    SELECT format('grants on %s.%s (%s): %s', n.nspname, c.relname, a.attname, ${acl('a.attacl')}) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = ANY($1) AND a.attacl IS NOT NULL AND NOT a.attisdropped
    UNION ALL
    SELECT format('grants on schema %s: %s', n.nspname, ${acl('n.nspacl')}) FROM pg_namespace n WHERE n.nspname = ANY($1) AND n.nspacl IS NOT NULL
    UNION ALL
    SELECT format('grants on function %s: %s', p.oid::regprocedure, ${acl('p.proacl')}) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = ANY($1) AND p.proacl IS NOT NULL
    ORDER BY 1`,
    [schemas],
  );
  return rows.map((r) => r.line);
}

/** Order-independent digest of a table over the given columns (all columns when omitted). */
export async function tableDigest(
  client: pg.ClientBase,
  table: string,
  columns?: string[],
): Promise<{ rows: number; digest: string }> {
  const cols =
    columns ??
    (
      await client.query<{ name: string }>(
        `SELECT attname AS name FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
        [table],
      )
    ).rows.map((r) => r.name);
  const row = cols.map((c) => `t."${c.replace(/"/g, '""')}"`).join(', ');
  const { rows } = await client.query<{ n: string; d: string }>(
    `SELECT count(*)::text AS n, coalesce(md5(string_agg(md5(ROW(${row})::text), '' ORDER BY md5(ROW(${row})::text))), '') AS d FROM ${table} t`,
  );
  return { rows: Number(rows[0]!.n), digest: rows[0]!.d };
}

export const LEGACY_TABLES = ['credentials', 'reports', 'dashboard_layouts'] as const;

export async function legacyColumns(client: pg.ClientBase, table: string): Promise<string[]> {
  return (
    await client.query<{ name: string }>(
      `SELECT attname AS name FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped AND attname <> 'org_id' ORDER BY attnum`,
      [table],
    )
  ).rows.map((r) => r.name);
}

/** Digests of every legacy table over its legacy columns, and of the row versions (xmin): a rewrite changes the latter. */
export async function dataFingerprint(
  client: pg.ClientBase,
): Promise<Record<string, { rows: number; digest: string }>> {
  const out: Record<string, { rows: number; digest: string }> = {};
  for (const t of LEGACY_TABLES) out[t] = await tableDigest(client, t, await legacyColumns(client, t));
  return out;
}

/** Digests of the given tables (quoted as SQL names) over their legacy columns (all but org_id). */
export async function legacyDigests(
  client: pg.ClientBase,
  tables: string[],
): Promise<Record<string, { rows: number; digest: string }>> {
  const out: Record<string, { rows: number; digest: string }> = {};
  for (const t of tables) out[t] = await tableDigest(client, t, await legacyColumns(client, t));
  return out;
}
