// A UNIQUE constraint or index without the org column holds across orgs: org 2's row collides with org 1's, and
// the error tells org 2 that the value exists. The spec may make it per org ("uniques"), unless a foreign key needs it.
import { displayName, quoteIdent as qi, quoteQualified as qq } from '../db/sql';
import { byOid, tableOids, type ShapeDetector } from './finding';

export const globalUniques: ShapeDetector = async (session, model) => {
  const { rows } = await session.query<{
    oid: number;
    schema: string;
    name: string;
    columns: string[];
    constraint: boolean;
    definition: string;
    expression: boolean;
    fkeys: string[];
  }>(
    `SELECT i.indrelid::int AS oid, n.nspname AS schema, ic.relname AS name,
            ARRAY(SELECT a.attname::text FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(n, o) JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n ORDER BY k.o) AS columns,
            EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.contype = 'u') AS constraint,
            pg_get_indexdef(i.indexrelid) AS definition, 0 = ANY(i.indkey::int2[]) OR i.indexprs IS NOT NULL AS expression,
            ARRAY(SELECT format('%s on %s', f.conname, f.conrelid::regclass) FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = i.indexrelid ORDER BY 1) AS fkeys
       FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_namespace n ON n.oid = ic.relnamespace
      WHERE i.indrelid = ANY($1::oid[]) AND i.indisunique AND NOT i.indisprimary
        AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = i.indrelid AND a.attname = $2 AND a.attnum = ANY(i.indkey::int2[]))
      ORDER BY 1, 2`,
    [tableOids(model), model.orgColumn],
  );
  const chosen = new Set(model.uniques.map((u) => displayName(u.index)));
  return rows.map((r) => {
    const name = byOid(model, r.oid).name;
    const table = displayName(name);
    const index = displayName({ schema: r.schema, name: r.name });
    const what = r.constraint ? `UNIQUE constraint ${r.name}` : `unique index ${r.name}`;
    const cols = r.expression ? '…' : r.columns.map(qi).join(', ');
    const holds = `${what} on ${table} (${r.definition.replace(/^.* USING /, 'USING ')})`;
    if (chosen.has(index) && r.fkeys.length > 0) {
      return {
        kind: 'global-unique' as const,
        table,
        object: index,
        blocking: true,
        message: `${holds} is made per org by the spec ("uniques"), but the foreign key ${r.fkeys.join(', ')} references it: a foreign key needs a unique constraint on exactly its columns, so it cannot be replaced by one that leads with ${model.orgColumn}`,
        fix: `Remove "${index}" from "uniques" in the spec, or first make the foreign key ${r.fkeys.join(', ')} reference (${qi(model.orgColumn)}, ${cols}) (the referencing table needs the org column too).`,
      };
    }
    if (chosen.has(index)) {
      return {
        kind: 'global-unique' as const,
        table,
        object: index,
        blocking: false,
        message: `${holds} is made per org by the migration (spec "uniques"): a unique index on (${qi(model.orgColumn)}, ${cols}) is built CONCURRENTLY, then swapped in under a short lock; rollback puts the original back (and refuses while rows of two orgs share a value)`,
      };
    }
    return {
      kind: 'global-unique' as const,
      table,
      object: index,
      blocking: false,
      message: `${holds} holds across all orgs: a tenant's insert of a value another org already has fails, and the error tells it that the value exists`,
      fix:
        r.fkeys.length > 0
          ? `The foreign key ${r.fkeys.join(', ')} references it, so it cannot simply be made per org: move that foreign key to (${qi(model.orgColumn)}, ${cols}) first, then CREATE UNIQUE INDEX CONCURRENTLY ON ${qq(name)} (${qi(model.orgColumn)}, ${cols}); and drop ${qi(r.name)}.`
          : `Let the migration make it per org: "uniques": { "${index}": "per-org" } in the spec (CREATE UNIQUE INDEX CONCURRENTLY ON ${qq(name)} (${qi(model.orgColumn)}, ${cols}), then the global one dropped).`,
    };
  });
};
