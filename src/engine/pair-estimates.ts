// The first answer's blocking checks for a mapping or query rule on a large table: proven from the catalog where it can
// (a unique index on the mapping's key, a validated foreign key to the orgs), else looked for in a sample of the
// mapping table, else left pending for the exact stage. A finding from a sample is real (the rows exist) but its count
// is an estimate; a sample that finds nothing proves nothing, so those checks stay pending.
import type { Session } from './db/session';
import { displayName, quoteIdent as qi, quoteQualified as qq } from './db/sql';
import type { GapFinding } from './gaps';
import type { MigrationModel, TableModel } from './model';
import { pairKey } from './key-columns';
import { SAMPLE, SAMPLE_ROWS } from './gap-queries';
import { plural } from '../shared/format';

export interface BlockingEstimate {
  readonly findings: GapFinding[];
  /** The exact checks still to answer for this table, as the user reads them. */
  readonly pending: string[];
}

interface MappingFacts {
  unique: boolean;
  orgKey: boolean;
  rows: number;
}

/** What the catalog proves about the mapping table: its key is unique, its org column references the orgs. */
async function mappingFacts(session: Session, m: MigrationModel): Promise<MappingFacts> {
  const mapping = m.mapping!;
  const { rows } = await session.query<MappingFacts>(
    `SELECT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisunique AND i.indisvalid AND i.indpred IS NULL
              AND (SELECT array_agg(a.attname::text ORDER BY a.attname) FROM unnest(i.indkey[0:i.indnkeyatts - 1]) k(n)
                     JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.n) = (SELECT array_agg(x ORDER BY x) FROM unnest($2::text[]) x)) AS unique,
            EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.convalidated AND f.conrelid = c.oid AND f.confrelid = $3::regclass
              AND array_length(f.conkey, 1) = 1
              AND (SELECT attname FROM pg_attribute WHERE attrelid = c.oid AND attnum = f.conkey[1]) = $4
              AND (SELECT attname FROM pg_attribute WHERE attrelid = f.confrelid AND attnum = f.confkey[1]) = $5) AS "orgKey",
            greatest(c.reltuples, 0)::float8 AS rows
       FROM pg_class c WHERE c.oid = $1::regclass`,
    [qq(mapping.name), mapping.keyColumns, qq(m.orgs.name), mapping.orgColumn, m.orgs.idColumn],
  );
  return rows[0]!;
}

export async function estimatedPairBlocking(
  session: Session,
  m: MigrationModel,
  t: TableModel,
  label: string,
): Promise<BlockingEstimate> {
  const source = t.rule.kind === 'mapping' ? 'the mapping table' : 'the query';
  if (t.rule.kind !== 'mapping')
    return { findings: [], pending: [`${label}: keys mapped to two orgs, orgs that do not exist (${source})`] };
  const facts = await mappingFacts(session, m);
  const pending: string[] = [];
  const findings: GapFinding[] = [];
  const mapping = m.mapping!;
  const key = pairKey(mapping.keyColumns, 'm');
  const org = `m.${qi(mapping.orgColumn)}`;
  const percent = Math.min(100, (100 * SAMPLE_ROWS) / Math.max(1, facts.rows));
  const { rows } = await session.query<{
    sampled: string;
    missing: string;
    missing_keys: string[] | null;
    conflict_keys: string[] | null;
  }>(
    `WITH s AS MATERIALIZED (SELECT ${key} AS key, ${org} AS org_id FROM ${qq(mapping.name)} m TABLESAMPLE SYSTEM ($1) REPEATABLE (7)
                              WHERE ${key} IS NOT NULL AND ${org} IS NOT NULL),
          miss AS (SELECT s.key FROM s WHERE NOT EXISTS (SELECT 1 FROM ${qq(m.orgs.name)} o WHERE o.${qi(m.orgs.idColumn)} = s.org_id)),
          conflict AS (SELECT s.key FROM s GROUP BY s.key HAVING count(DISTINCT s.org_id) > 1)
     SELECT (SELECT count(*) FROM s)::text AS sampled, (SELECT count(*) FROM miss)::text AS missing,
            (SELECT (array_agg(key::text ORDER BY key))[1:${SAMPLE}] FROM miss) AS missing_keys,
            (SELECT (array_agg(key::text ORDER BY key))[1:${SAMPLE}] FROM conflict) AS conflict_keys`,
    [percent],
  );
  const r = rows[0]!;
  const sampled = Number(r.sampled);
  const scale = (n: number) => Math.max(n, Math.round((n / Math.max(1, sampled)) * facts.rows));
  const conflictKeys = r.conflict_keys ?? [];
  if (conflictKeys.length > 0)
    findings.push({
      kind: 'conflict',
      table: label,
      count: conflictKeys.length,
      blocking: true,
      estimated: true,
      samples: conflictKeys.map((k) => ({ key: k })),
      message: `at least ${plural(conflictKeys.length, 'key')} ${conflictKeys.length === 1 ? 'maps' : 'map'} to more than one org in ${source} (found in a sample; the exact check counts them all): the run refuses until each maps to one org`,
    });
  else if (!facts.unique) pending.push(`${label}: keys mapped to two orgs`);
  const missing = Number(r.missing);
  if (missing > 0)
    findings.push({
      kind: 'missing-org',
      table: label,
      count: scale(missing),
      blocking: true,
      estimated: true,
      samples: (r.missing_keys ?? []).map((k) => ({ key: k, detail: 'its org does not exist' })),
      message: `about ${plural(scale(missing), 'mapping row')} (estimated from a sample) ${scale(missing) === 1 ? 'points' : 'point'} to an org that does not exist in ${displayName(m.orgs.name)}: the run refuses until they are corrected`,
    });
  else if (!facts.orgKey) pending.push(`${label}: orgs that do not exist`);
  return { findings, pending };
}
