// A partition owned by a role the migrating role is not a member of: the migration alters every partition (its checks,
// foreign keys, indexes, row-level security, privileges), so the run would stop part-way at the first one.
import { displayName, quoteIdent as qi, quoteQualified as qq } from '../db/sql';
import type { ShapeDetector, ShapeFinding } from './finding';

export const partitionOwners: ShapeDetector = async (session, model) => {
  const findings: ShapeFinding[] = [];
  for (const t of model.tables) {
    const partitions = t.info.partitionTree?.partitions ?? [];
    const owners = [...new Set(partitions.map((p) => p.owner))];
    if (owners.length === 0) continue;
    const { rows } = await session.query<{ owner: string; ok: boolean }>(
      `SELECT o AS owner, pg_has_role(current_user, o, 'USAGE') AS ok FROM unnest($1::text[]) AS o`,
      [owners],
    );
    const foreign = new Set(rows.filter((r) => !r.ok).map((r) => r.owner));
    for (const p of partitions.filter((x) => foreign.has(x.owner))) {
      const table = displayName(t.name);
      findings.push({
        kind: 'partition-owner',
        table,
        object: displayName(p.name),
        blocking: true,
        message: `${displayName(p.name)}, a partition of ${table}, is owned by ${p.owner}, and the migration runs as a role that is not a member of ${p.owner}: it alters every partition, so it would stop part-way`,
        fix: `ALTER TABLE ${qq(p.name)} OWNER TO ${qi(t.info.owner)}; (as a superuser or ${p.owner}), or run the migration as a member of ${p.owner} (GRANT ${qi(p.owner)} TO <the migrating role>).`,
      });
    }
  }
  return findings;
};
