// Tables in a publication: the backfill's UPDATEs need a replica identity when the publication publishes updates,
// and a native subscriber needs the new column before the publisher sends rows that have it.
import { displayName, quoteIdent, quoteQualified as qq } from '../db/sql';
import { byOid, tableOids, type ShapeDetector } from './finding';

export const publications: ShapeDetector = async (session, model) => {
  const { rows } = await session.query<{
    oid: number;
    pubname: string;
    publishes_changes: boolean;
    identity: string;
    has_pkey: boolean;
    has_identity_index: boolean;
  }>(
    `SELECT c.oid::int AS oid, pt.pubname, (p.pubupdate OR p.pubdelete) AS publishes_changes, c.relreplident::text AS identity,
            EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary) AS has_pkey,
            EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisreplident AND i.indisvalid) AS has_identity_index
       FROM pg_publication_tables pt JOIN pg_publication p ON p.pubname = pt.pubname
       JOIN pg_namespace n ON n.nspname = pt.schemaname JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = pt.tablename
      WHERE c.oid = ANY($1::oid[]) ORDER BY 2, 1`,
    [tableOids(model)],
  );
  const findings = [];
  for (const r of rows) {
    const t = byOid(model, r.oid);
    const table = displayName(t.name);
    const usable =
      r.identity === 'f' || (r.identity === 'd' && r.has_pkey) || (r.identity === 'i' && r.has_identity_index);
    if (r.publishes_changes && !usable) {
      const why =
        r.identity === 'n'
          ? 'REPLICA IDENTITY NOTHING'
          : r.identity === 'i'
            ? 'a replica identity index that no longer exists'
            : 'no primary key';
      findings.push({
        kind: 'replica-identity' as const,
        table,
        object: r.pubname,
        blocking: true,
        message: `${table} is in publication ${r.pubname}, which publishes updates, and has ${why}: the backfill's first UPDATE would fail (cannot update a table without a replica identity)`,
        fix: `Give it a replica identity first: ALTER TABLE ${qq(t.name)} REPLICA IDENTITY FULL; (or add a primary key, or REPLICA IDENTITY USING INDEX on a unique index of NOT NULL columns).`,
      });
    }
    findings.push({
      kind: 'publication' as const,
      table,
      object: r.pubname,
      blocking: false,
      message:
        `${table} is in publication ${r.pubname}: the backfill publishes an UPDATE of every row, and the new column ${model.orgColumn} is published (unless the publication lists its columns). ` +
        `A native logical-replication subscriber of ${r.pubname} must add the column before the migration, or its subscription stops: on the subscriber, ALTER TABLE ${qq(t.name)} ADD COLUMN ${quoteIdent(model.orgColumn)} ${model.orgType};` +
        ' (Supabase Realtime needs nothing.)',
    });
  }
  return findings;
};
