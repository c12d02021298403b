// A UNIQUE constraint or index without the org column holds across orgs: org 2's row collides with org 1's, and
// the error tells org 2 that the value exists.
import { displayName, quoteIdent as qi, quoteQualified as qq } from '../db/sql';
import { byOid, tableOids, type ShapeDetector } from './finding';

export const globalUniques: ShapeDetector = async (session, model) => {
  const { rows } = await session.query<{ oid: number; name: string; columns: string[]; constraint: boolean; definition: string; expression: boolean }>(
    `SELECT i.indrelid::int AS oid, ic.relname AS name,
            ARRAY(SELECT a.attname::text FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(n, o) JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n ORDER BY k.o) AS columns,
            EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.contype = 'u') AS constraint,
            pg_get_indexdef(i.indexrelid) AS definition, 0 = ANY(i.indkey::int2[]) OR i.indexprs IS NOT NULL AS expression
       FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
      WHERE i.indrelid = ANY($1::oid[]) AND i.indisunique AND NOT i.indisprimary
        AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = i.indrelid AND a.attname = $2 AND a.attnum = ANY(i.indkey::int2[]))
      ORDER BY 1, 2`, [tableOids(model), model.orgColumn]);
  return rows.map((r) => {
    const name = byOid(model, r.oid).name;
    const table = displayName(name);
    const what = r.constraint ? `UNIQUE constraint ${r.name}` : `unique index ${r.name}`;
    const cols = r.expression ? '…' : r.columns.map(qi).join(', ');
    return { kind: 'global-unique' as const, table, object: r.name, blocking: false,
      message: `${what} on ${table} (${r.definition.replace(/^.* USING /, 'USING ')}) holds across all orgs: a tenant's insert of a value another org already has fails, and the error tells it that the value exists`,
      fix: `To make it per org after the migration: CREATE UNIQUE INDEX CONCURRENTLY ON ${qq(name)} (${qi(model.orgColumn)}, ${cols}); then drop ${qi(r.name)} (a foreign key that references it must be moved first).` };
  });
};
