// Mapping gaps of a mapping or query rule: conflicts and duplicates in the pairs, orgs that do not exist, stale mapping
// keys, and the rows left to the default org (exact, or estimated from a sample for a quick preview).
import type { Session } from './db/session';
import { displayName, quoteIdent as qi, quoteQualified as qq } from './db/sql';
import type { GapFinding, GapOptions, GapSample, Lane, TableAssignment, TableGaps } from './gaps';
import type { MigrationModel, TableModel } from './model';
import { keyLabel, pairKey } from './key-columns';
import { estimateAbove, SAMPLE, SAMPLE_ROWS, estimatedRows, firstRows } from './gap-queries';
import { pairSource } from './script/sections';
import { estimatedPairBlocking, type BlockingEstimate } from './pair-estimates';
import { plural } from '../shared/format';

const validPairs = (m: MigrationModel, t: TableModel) =>
  `SELECT q.key, q.org_id FROM (${pairSource(m, t).pairs}) AS q WHERE q.key IS NOT NULL AND q.org_id IS NOT NULL`;

const firstKeys = (keys: string[] | null, detail?: (i: number) => string | undefined): GapSample[] =>
  (keys ?? []).slice(0, SAMPLE).map((key, i) => {
    const d = detail?.(i);
    return d === undefined ? { key } : { key, detail: d };
  });

/**
 * Conflicts and duplicates, exactly: only keys given more than once can be either, so one hash aggregate finds
 * them and a second pass looks at those few keys alone (no sort of the whole mapping).
 */
async function repeatedKeys(session: Session, m: MigrationModel, t: TableModel, label: string): Promise<GapFinding[]> {
  const kind = t.rule.kind === 'mapping' ? 'mapping table' : 'query';
  const { rows } = await session.query<{
    conflicts: string;
    duplicates: string;
    conflict_keys: string[] | null;
    conflict_orgs: string[] | null;
    duplicate_keys: string[] | null;
    duplicate_orgs: string[] | null;
  }>(
    `WITH pairs AS NOT MATERIALIZED (${validPairs(m, t)}),
          repeated AS (SELECT key FROM pairs GROUP BY key HAVING count(*) > 1),
          k AS (SELECT p.key, count(DISTINCT p.org_id) AS orgs, count(*) AS n, string_agg(DISTINCT p.org_id::text, ', ') AS org_list
                  FROM pairs p WHERE p.key IN (SELECT key FROM repeated) GROUP BY p.key)
     SELECT count(*) FILTER (WHERE orgs > 1)::text AS conflicts, count(*) FILTER (WHERE n > orgs)::text AS duplicates,
            (array_agg(key::text ORDER BY key) FILTER (WHERE orgs > 1))[1:${SAMPLE}] AS conflict_keys,
            (array_agg(org_list ORDER BY key) FILTER (WHERE orgs > 1))[1:${SAMPLE}] AS conflict_orgs,
            (array_agg(key::text ORDER BY key) FILTER (WHERE n > orgs))[1:${SAMPLE}] AS duplicate_keys,
            (array_agg(org_list ORDER BY key) FILTER (WHERE n > orgs))[1:${SAMPLE}] AS duplicate_orgs
       FROM k`,
  );
  const r = rows[0]!;
  const findings: GapFinding[] = [];
  const conflicts = Number(r.conflicts);
  if (conflicts > 0) {
    findings.push({
      kind: 'conflict',
      table: label,
      count: conflicts,
      blocking: true,
      samples: firstKeys(r.conflict_keys, (i) => `maps to ${r.conflict_orgs![i]}`),
      message: `${plural(conflicts, 'key')} ${conflicts === 1 ? 'maps' : 'map'} to more than one org in the ${kind}: the run refuses until each maps to one org`,
    });
  }
  const duplicates = Number(r.duplicates);
  if (t.rule.kind === 'mapping' && duplicates > 0) {
    findings.push({
      kind: 'duplicate-mapping',
      table: label,
      count: duplicates,
      blocking: false,
      samples: firstKeys(r.duplicate_keys, (i) => `org ${r.duplicate_orgs![i]}`),
      message: `${plural(duplicates, 'key')} ${duplicates === 1 ? 'has' : 'have'} identical duplicate mapping rows (harmless)`,
    });
  }
  return findings;
}

/** Pairs naming an org that does not exist, exactly: one pass, the (small) orgs table hashed. */
async function missingOrgs(session: Session, m: MigrationModel, t: TableModel, label: string): Promise<GapFinding[]> {
  const from = `FROM (${validPairs(m, t)}) AS q WHERE NOT EXISTS (SELECT 1 FROM ${qq(m.orgs.name)} o WHERE o.${qi(m.orgs.idColumn)} = q.org_id)`;
  const n = Number((await session.query<{ n: string }>(`SELECT count(*)::text AS n ${from}`)).rows[0]!.n);
  if (n === 0) return [];
  return [
    {
      kind: 'missing-org',
      table: label,
      count: n,
      blocking: true,
      samples: await firstRows(session, from, 'q.key', `'org ' || q.org_id || ' does not exist'`),
      message: `${plural(n, 'mapping row')} ${n === 1 ? 'points' : 'point'} to an org that does not exist in ${displayName(m.orgs.name)}`,
    },
  ];
}

interface RowCounts {
  rows: number;
  unassigned: number;
  unassignedKeys: string[];
  stale?: { count: number; keys: string[] };
  estimated: boolean;
}

/** Exact: the distinct mapped keys fully joined with the table's keys, hash joins, one pass over each. */
async function exactPairCounts(session: Session, m: MigrationModel, t: TableModel): Promise<RowCounts> {
  const key = (alias: string) => pairKey(t.rule.columns, alias);
  const { rows } = await session.query<{ stale: string; rows: string; unassigned: string }>(
    `SELECT count(*) FILTER (WHERE r.present IS NULL)::text AS stale, count(*) FILTER (WHERE r.present)::text AS rows,
            count(*) FILTER (WHERE r.present AND k.key IS NULL)::text AS unassigned
       FROM (SELECT DISTINCT q.key FROM (${validPairs(m, t)}) AS q) k
       FULL JOIN (SELECT true AS present, ${key('x')} AS key FROM ${qq(t.name)} x) r ON r.key = k.key`,
  );
  const counts = {
    stale: Number(rows[0]!.stale),
    rows: Number(rows[0]!.rows),
    unassigned: Number(rows[0]!.unassigned),
  };
  // NOT EXISTS alone (a NULL key never matches): PostgreSQL plans it as a hash anti-join.
  const unassignedKeys =
    counts.unassigned === 0
      ? []
      : await firstRows(
          session,
          `FROM ${qq(t.name)} r WHERE NOT EXISTS (SELECT 1 FROM (${validPairs(m, t)}) AS q WHERE q.key = ${key('r')})`,
          key('r'),
        );
  const staleKeys =
    counts.stale === 0
      ? []
      : await firstRows(
          session,
          `FROM (SELECT DISTINCT q.key FROM (${validPairs(m, t)}) AS q) q WHERE NOT EXISTS (SELECT 1 FROM ${qq(t.name)} r WHERE ${key('r')} = q.key)`,
          'q.key',
        );
  return {
    rows: counts.rows,
    unassigned: counts.unassigned,
    unassignedKeys: unassignedKeys.map((k) => k.key),
    stale: { count: counts.stale, keys: staleKeys.map((k) => k.key) },
    estimated: false,
  };
}

/** Estimated: a sample of the table's pages, its keys looked up in one pass over the mapping. */
async function sampledPairCounts(
  session: Session,
  m: MigrationModel,
  t: TableModel,
  total: number,
): Promise<RowCounts> {
  const percent = Math.min(100, (100 * SAMPLE_ROWS) / total);
  const { rows } = await session.query<{ sampled: string; unassigned: string; keys: string[] | null }>(
    `WITH s AS MATERIALIZED (SELECT ${pairKey(t.rule.columns, 'x')} AS key FROM ${qq(t.name)} x TABLESAMPLE SYSTEM ($1) REPEATABLE (7)),
          hit AS (SELECT DISTINCT q.key FROM (${validPairs(m, t)}) AS q WHERE q.key IN (SELECT key FROM s))
     SELECT count(*)::text AS sampled, count(*) FILTER (WHERE h.key IS NULL)::text AS unassigned,
            (array_agg(s.key::text ORDER BY s.key) FILTER (WHERE h.key IS NULL))[1:${SAMPLE}] AS keys
       FROM s LEFT JOIN hit h ON h.key = s.key`,
    [percent],
  );
  const sampled = Number(rows[0]!.sampled);
  const unassigned = sampled === 0 ? 0 : Math.round((Number(rows[0]!.unassigned) / sampled) * total);
  return { rows: Math.round(total), unassigned, unassignedKeys: rows[0]!.keys ?? [], estimated: true };
}

/**
 * Two lanes side by side: the conflict check over the whole mapping, and everything else. For the first answer, a
 * large table is estimated instead: its blocking checks proven from the catalog, found in a sample or left pending;
 * its counts from a sample.
 */
export function pairTableLanes(
  m: MigrationModel,
  t: TableModel,
  label: string,
  options: GapOptions,
  done: (result: TableGaps) => void,
): Lane[] {
  let large: Promise<boolean> | undefined;
  const estimate = async (session: Session) =>
    !!options.firstAnswer && (large ??= estimatedRows(session, t).then((rows) => rows > estimateAbove(options)));
  let blocking: BlockingEstimate | undefined;
  let rest: { findings: GapFinding[]; assignment: TableAssignment } | undefined;
  const finish = () => {
    if (blocking && rest)
      done({
        assignment: rest.assignment,
        findings: [...blocking.findings, ...rest.findings],
        pending: blocking.pending,
      });
  };
  return [
    async (session) => {
      blocking = (await estimate(session))
        ? await estimatedPairBlocking(session, m, t, label)
        : { findings: await repeatedKeys(session, m, t, label), pending: [] };
      finish();
    },
    async (session) => {
      rest = (await estimate(session))
        ? await pairCountsAndFindings(session, m, t, label, { ...options, quick: true }, false)
        : await pairCountsAndFindings(session, m, t, label, options);
      finish();
    },
  ];
}

async function pairCountsAndFindings(
  session: Session,
  m: MigrationModel,
  t: TableModel,
  label: string,
  options: GapOptions,
  checkOrgs = true,
): Promise<{ findings: GapFinding[]; assignment: TableAssignment }> {
  const findings = checkOrgs ? await missingOrgs(session, m, t, label) : [];
  const total = options.quick ? await estimatedRows(session, t) : -1;
  const counts =
    total > estimateAbove(options)
      ? await sampledPairCounts(session, m, t, total)
      : await exactPairCounts(session, m, t);
  const about = counts.estimated ? 'about ' : '';
  if (t.rule.kind === 'mapping' && counts.stale && counts.stale.count > 0) {
    findings.push({
      kind: 'stale-mapping',
      table: label,
      count: counts.stale.count,
      blocking: false,
      samples: firstKeys(counts.stale.keys),
      message: `${plural(counts.stale.count, 'mapping key')} ${counts.stale.count === 1 ? 'names' : 'name'} rows that no longer exist (ignored)`,
    });
  }
  if (counts.unassigned > 0) {
    findings.push({
      kind: 'unmapped',
      table: label,
      count: counts.unassigned,
      blocking: false,
      samples: firstKeys(counts.unassignedKeys),
      message: `${about}${plural(counts.unassigned, 'row')} ${counts.unassigned === 1 ? 'has' : 'have'} no mapping and ${counts.unassigned === 1 ? 'gets' : 'get'} the default org ${m.defaultOrgId}`,
    });
  }
  const rule =
    t.rule.kind === 'mapping'
      ? `mapping ${displayName(m.mapping!.name)} by ${keyLabel(t.rule.columns)}`
      : `query by ${keyLabel(t.rule.columns)}`;
  return {
    findings,
    assignment: {
      table: label,
      rule,
      rows: counts.rows,
      assigned: counts.rows - counts.unassigned,
      toDefault: counts.unassigned,
      estimated: counts.estimated,
    },
  };
}
