// Tables the isolation matrix will not be able to write a probe row to (a NOT NULL column without a default whose
// type, or domain CHECK, admits no value the tool can make): predicted before the migration, by planning the probe
// rows in a read-only transaction that is rolled back.
import type { Session } from '../db/session';
import { quoteIdent as qi, quoteQualified as qq } from '../db/sql';
import { planProbeRows } from '../isolation/rows';
import type { ShapeDetector, ShapeFinding } from './finding';

/** Inside the caller's transaction a savepoint, else a read-only transaction of its own; rolled back either way. */
async function rolledBack<T>(session: Session, fn: () => Promise<T>): Promise<T> {
  const inside = await session.query('SAVEPOINT tm_shape_probe_rows').then(
    () => true,
    () => false,
  );
  if (!inside) await session.query('BEGIN READ ONLY');
  try {
    return await fn();
  } finally {
    await session.query(inside ? 'ROLLBACK TO SAVEPOINT tm_shape_probe_rows' : 'ROLLBACK');
  }
}

export const unprovableTables: ShapeDetector = (session, model) =>
  rolledBack(session, async () => {
    const { plans } = await planProbeRows(session, {
      orgs: model.orgs,
      tenants: model.tables.map((t) => ({ name: t.name, orgColumn: model.orgColumn })),
    });
    return plans
      .filter((p) => p.unwritable)
      .map((p): ShapeFinding => {
        const column = p.unwritable!.column;
        return {
          kind: 'probe-row',
          table: p.label,
          object: `${p.label}.${column}`,
          blocking: false,
          message: `Isolation cannot be proven on ${p.label} (nor on the tables that reference it) by "verify-isolation": ${p.problem}`,
          fix: `Give ${p.label}.${column} a default the column accepts (ALTER TABLE ${qq(p.table)} ALTER COLUMN ${qi(column)} SET DEFAULT …), or prove that table's isolation by hand`,
        };
      });
  });
