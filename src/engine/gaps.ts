// Mapping gaps: per table, how each row's org will be decided and where it cannot. Read-only; set-wise queries.
// What blocks a run (a key mapped to two orgs, an org that does not exist) is always counted exactly; how many rows
// get the default org may be estimated from a sample of a large table when a quick preview asks for it.
import type { Session } from './db/session';
import { displayName, quoteIdent as qi, quoteLiteral as ql, quoteQualified as qq } from './db/sql';
import type { MigrationModel, TableModel } from './model';
import { anyKeyNull, keyLabel, pairKey, parentMatch } from './key-columns';
import { ESTIMATE_ABOVE_ROWS, SAMPLE, SAMPLE_ROWS, estimatedRows, firstRows } from './gap-queries';
import { parentTableGaps, type ParentTable } from './parent-gaps';
import { pairSource } from './script/sections';
import { formatCount, plural } from '../shared/format';

export interface GapSample { readonly key: string; readonly detail?: string }

export interface GapFinding {
  readonly kind: 'unmapped' | 'missing-org' | 'stale-mapping' | 'conflict' | 'duplicate-mapping' | 'orphan-child' | 'null-key';
  readonly table: string;
  readonly count: number;
  readonly samples: GapSample[];
  /** Blocking findings make the run refuse until they are resolved. */
  readonly blocking: boolean;
  readonly message: string;
}

export interface TableAssignment {
  readonly table: string;
  readonly rule: string;
  readonly rows: number;
  readonly assigned: number;
  readonly toDefault: number;
  /** The counts are estimates from a sample of the table (`rows` from its statistics); the findings' counts too. */
  readonly estimated: boolean;
}

export interface GapReport {
  readonly tables: TableAssignment[];
  readonly findings: GapFinding[];
  readonly blocking: boolean;
}

export interface GapOptions {
  /** Estimate the row counts of large tables from a sample (the preview). */
  readonly quick?: boolean;
  /** What "large" means for `quick`: more rows than this (default ESTIMATE_ABOVE_ROWS). */
  readonly estimateAboveRows?: number;
}


const validPairs = (m: MigrationModel, t: TableModel) =>
  `SELECT q.key, q.org_id FROM (${pairSource(m, t).pairs}) AS q WHERE q.key IS NOT NULL AND q.org_id IS NOT NULL`;

const firstKeys = (keys: string[] | null, detail?: (i: number) => string | undefined): GapSample[] =>
  (keys ?? []).slice(0, SAMPLE).map((key, i) => { const d = detail?.(i); return d === undefined ? { key } : { key, detail: d }; });

/**
 * Conflicts and duplicates, exactly: only keys given more than once can be either, so one hash aggregate finds
 * them and a second pass looks at those few keys alone (no sort of the whole mapping).
 */
async function repeatedKeys(session: Session, m: MigrationModel, t: TableModel, label: string): Promise<GapFinding[]> {
  const kind = t.rule.kind === 'mapping' ? 'mapping table' : 'query';
  const { rows } = await session.query<{ conflicts: string; duplicates: string; conflict_keys: string[] | null; conflict_orgs: string[] | null; duplicate_keys: string[] | null; duplicate_orgs: string[] | null }>(
    `WITH pairs AS NOT MATERIALIZED (${validPairs(m, t)}),
          repeated AS (SELECT key FROM pairs GROUP BY key HAVING count(*) > 1),
          k AS (SELECT p.key, count(DISTINCT p.org_id) AS orgs, count(*) AS n, string_agg(DISTINCT p.org_id::text, ', ') AS org_list
                  FROM pairs p WHERE p.key IN (SELECT key FROM repeated) GROUP BY p.key)
     SELECT count(*) FILTER (WHERE orgs > 1)::text AS conflicts, count(*) FILTER (WHERE n > orgs)::text AS duplicates,
            (array_agg(key::text ORDER BY key) FILTER (WHERE orgs > 1))[1:${SAMPLE}] AS conflict_keys,
            (array_agg(org_list ORDER BY key) FILTER (WHERE orgs > 1))[1:${SAMPLE}] AS conflict_orgs,
            (array_agg(key::text ORDER BY key) FILTER (WHERE n > orgs))[1:${SAMPLE}] AS duplicate_keys,
            (array_agg(org_list ORDER BY key) FILTER (WHERE n > orgs))[1:${SAMPLE}] AS duplicate_orgs
       FROM k`);
  const r = rows[0]!;
  const findings: GapFinding[] = [];
  const conflicts = Number(r.conflicts);
  if (conflicts > 0) {
    findings.push({ kind: 'conflict', table: label, count: conflicts, blocking: true, samples: firstKeys(r.conflict_keys, (i) => `maps to ${r.conflict_orgs![i]}`),
      message: `${plural(conflicts, 'key')} ${conflicts === 1 ? 'maps' : 'map'} to more than one org in the ${kind}: the run refuses until each maps to one org` });
  }
  const duplicates = Number(r.duplicates);
  if (t.rule.kind === 'mapping' && duplicates > 0) {
    findings.push({ kind: 'duplicate-mapping', table: label, count: duplicates, blocking: false, samples: firstKeys(r.duplicate_keys, (i) => `org ${r.duplicate_orgs![i]}`),
      message: `${plural(duplicates, 'key')} ${duplicates === 1 ? 'has' : 'have'} identical duplicate mapping rows (harmless)` });
  }
  return findings;
}

/** Pairs naming an org that does not exist, exactly: one pass, the (small) orgs table hashed. */
async function missingOrgs(session: Session, m: MigrationModel, t: TableModel, label: string): Promise<GapFinding[]> {
  const from = `FROM (${validPairs(m, t)}) AS q WHERE NOT EXISTS (SELECT 1 FROM ${qq(m.orgs.name)} o WHERE o.${qi(m.orgs.idColumn)} = q.org_id)`;
  const n = Number((await session.query<{ n: string }>(`SELECT count(*)::text AS n ${from}`)).rows[0]!.n);
  if (n === 0) return [];
  return [{ kind: 'missing-org', table: label, count: n, blocking: true, samples: await firstRows(session, from, 'q.key', `'org ' || q.org_id || ' does not exist'`),
    message: `${plural(n, 'mapping row')} ${n === 1 ? 'points' : 'point'} to an org that does not exist in ${displayName(m.orgs.name)}` }];
}

interface RowCounts { rows: number; unassigned: number; unassignedKeys: string[]; stale?: { count: number; keys: string[] }; estimated: boolean }

/** Exact: the distinct mapped keys fully joined with the table's keys, hash joins, one pass over each. */
async function exactPairCounts(session: Session, m: MigrationModel, t: TableModel): Promise<RowCounts> {
  const key = (alias: string) => pairKey(t.rule.columns, alias);
  const { rows } = await session.query<{ stale: string; rows: string; unassigned: string }>(
    `SELECT count(*) FILTER (WHERE r.present IS NULL)::text AS stale, count(*) FILTER (WHERE r.present)::text AS rows,
            count(*) FILTER (WHERE r.present AND k.key IS NULL)::text AS unassigned
       FROM (SELECT DISTINCT q.key FROM (${validPairs(m, t)}) AS q) k
       FULL JOIN (SELECT true AS present, ${key('x')} AS key FROM ${qq(t.name)} x) r ON r.key = k.key`);
  const counts = { stale: Number(rows[0]!.stale), rows: Number(rows[0]!.rows), unassigned: Number(rows[0]!.unassigned) };
  // NOT EXISTS alone (a NULL key never matches): PostgreSQL plans it as a hash anti-join.
  const unassignedKeys = counts.unassigned === 0 ? [] : await firstRows(session,
    `FROM ${qq(t.name)} r WHERE NOT EXISTS (SELECT 1 FROM (${validPairs(m, t)}) AS q WHERE q.key = ${key('r')})`, key('r'));
  const staleKeys = counts.stale === 0 ? [] : await firstRows(session,
    `FROM (SELECT DISTINCT q.key FROM (${validPairs(m, t)}) AS q) q WHERE NOT EXISTS (SELECT 1 FROM ${qq(t.name)} r WHERE ${key('r')} = q.key)`, 'q.key');
  return { rows: counts.rows, unassigned: counts.unassigned, unassignedKeys: unassignedKeys.map((k) => k.key), stale: { count: counts.stale, keys: staleKeys.map((k) => k.key) }, estimated: false };
}

/** Estimated: a sample of the table's pages, its keys looked up in one pass over the mapping. */
async function sampledPairCounts(session: Session, m: MigrationModel, t: TableModel, total: number): Promise<RowCounts> {
  const percent = Math.min(100, (100 * SAMPLE_ROWS) / total);
  const { rows } = await session.query<{ sampled: string; unassigned: string; keys: string[] | null }>(
    `WITH s AS MATERIALIZED (SELECT ${pairKey(t.rule.columns, 'x')} AS key FROM ${qq(t.name)} x TABLESAMPLE SYSTEM ($1) REPEATABLE (7)),
          hit AS (SELECT DISTINCT q.key FROM (${validPairs(m, t)}) AS q WHERE q.key IN (SELECT key FROM s))
     SELECT count(*)::text AS sampled, count(*) FILTER (WHERE h.key IS NULL)::text AS unassigned,
            (array_agg(s.key::text ORDER BY s.key) FILTER (WHERE h.key IS NULL))[1:${SAMPLE}] AS keys
       FROM s LEFT JOIN hit h ON h.key = s.key`, [percent]);
  const sampled = Number(rows[0]!.sampled);
  const unassigned = sampled === 0 ? 0 : Math.round((Number(rows[0]!.unassigned) / sampled) * total);
  return { rows: Math.round(total), unassigned, unassignedKeys: rows[0]!.keys ?? [], estimated: true };
}

type TableGaps = { assignment: TableAssignment; findings: GapFinding[] };
/** A piece of the report that can run on any session, side by side with the others. */
type Lane = (session: Session) => Promise<void>;

/** Two lanes: the exact conflict check over the whole mapping, and everything else. */
function pairTableLanes(m: MigrationModel, t: TableModel, label: string, options: GapOptions, done: (result: TableGaps) => void): Lane[] {
  let repeated: GapFinding[] | undefined;
  let rest: { findings: GapFinding[]; assignment: TableAssignment } | undefined;
  const finish = () => { if (repeated && rest) done({ assignment: rest.assignment, findings: [...repeated, ...rest.findings] }); };
  return [
    async (session) => { repeated = await repeatedKeys(session, m, t, label); finish(); },
    async (session) => { rest = await pairCountsAndFindings(session, m, t, label, options); finish(); },
  ];
}

async function pairCountsAndFindings(session: Session, m: MigrationModel, t: TableModel, label: string, options: GapOptions): Promise<{ findings: GapFinding[]; assignment: TableAssignment }> {
  const findings = await missingOrgs(session, m, t, label);
  const total = options.quick ? await estimatedRows(session, t) : -1;
  const counts = total > (options.estimateAboveRows ?? ESTIMATE_ABOVE_ROWS) ? await sampledPairCounts(session, m, t, total) : await exactPairCounts(session, m, t);
  const about = counts.estimated ? 'about ' : '';
  if (t.rule.kind === 'mapping' && counts.stale && counts.stale.count > 0) {
    findings.push({ kind: 'stale-mapping', table: label, count: counts.stale.count, blocking: false, samples: firstKeys(counts.stale.keys),
      message: `${plural(counts.stale.count, 'mapping key')} ${counts.stale.count === 1 ? 'names' : 'name'} rows that no longer exist (ignored)` });
  }
  if (counts.unassigned > 0) {
    findings.push({ kind: 'unmapped', table: label, count: counts.unassigned, blocking: false, samples: firstKeys(counts.unassignedKeys),
      message: `${about}${plural(counts.unassigned, 'row')} ${counts.unassigned === 1 ? 'has' : 'have'} no mapping and ${counts.unassigned === 1 ? 'gets' : 'get'} the default org ${m.defaultOrgId}` });
  }
  const rule = t.rule.kind === 'mapping' ? `mapping ${displayName(m.mapping!.name)} by ${keyLabel(t.rule.columns)}` : `query by ${keyLabel(t.rule.columns)}`;
  return { findings, assignment: { table: label, rule, rows: counts.rows, assigned: counts.rows - counts.unassigned, toDefault: counts.unassigned, estimated: counts.estimated } };
}

function tableLanes(m: MigrationModel, t: TableModel, options: GapOptions, done: (result: TableGaps) => void): Lane[] {
  const label = displayName(t.name);
  return t.rule.kind === 'parent'
    ? [async (session) => done(await parentTableGaps(session, m, t as ParentTable, label, options))]
    : pairTableLanes(m, t, label, options, done);
}

/** Memory for the sorts and hashes over a whole mapping (a million keys): without it they spill to disk. */
const GAPS_WORK_MEM = '64MB';
/** Sessions the report uses at most (this one and two more): its queries are independent scans. */
const GAPS_SESSIONS = 3;

/** Runs the lanes on this session and up to GAPS_SESSIONS - 1 short-lived siblings, each lane on one session. */
async function runLanes(main: Session, lanes: Lane[]): Promise<void> {
  const sessions = [main];
  try {
    const width = Math.min(GAPS_SESSIONS, lanes.length);
    const opened = await Promise.allSettled(Array.from({ length: width - 1 }, () => main.sibling('tenant-migration gaps')));
    for (const o of opened) if (o.status === 'fulfilled') sessions.push(o.value);
    const failure = opened.find((o) => o.status === 'rejected');
    if (failure) throw failure.reason; // the ones that opened are closed below
    let next = 0;
    // Each session reads in a read-only transaction: the spec's query may call any function, and none may write here.
    await Promise.all(sessions.map((session) => session.reading(async () => {
      // Sorting a million keys is faster than hashing them into a million groups (1.3–1.4 s against 1.6–1.8 s for
      // the conflict check on the benchmark's 870,000-row mapping). Local settings: the transaction's end undoes them.
      await session.query(`SELECT set_config('work_mem', $1, true), set_config('enable_hashagg', 'off', true), set_config('row_security', 'off', true)`, [GAPS_WORK_MEM]);
      while (next < lanes.length) await lanes[next++]!(session);
    })));
  } finally {
    await Promise.all(sessions.slice(1).map((s) => s.close()));
  }
}

export async function findGaps(session: Session, model: MigrationModel, options: GapOptions = {}): Promise<GapReport> {
  const results: TableGaps[] = [];
  const lanes = model.tables.flatMap((t, i) => tableLanes(model, t, options, (result) => { results[i] = result; }));
  await runLanes(session, lanes);
  return { tables: results.map((r) => r.assignment), findings: results.flatMap((r) => r.findings), blocking: results.some((r) => r.findings.some((f) => f.blocking)) };
}

/** SQL the operator fills in: one mapping row per unmapped key, org left for them to choose. */
export async function mappingStub(session: Session, model: MigrationModel, limit = 1000): Promise<string> {
  const mapped = model.tables.find((t) => t.rule.kind === 'mapping');
  const mapping = model.mapping;
  if (!mapped || !mapping) return '-- No table takes its org from the mapping table.\n';
  const columns = mapped.rule.columns;
  const types = columns.map((c) => mapped.info.columns.find((x) => x.name === c)!.type);
  const { rows } = await session.reading(() => session.query<{ key: string[] }>(
    `SELECT ARRAY[${columns.map((c) => `r.${qi(c)}::text`).join(', ')}] AS key FROM ${qq(mapped.name)} r
      WHERE NOT (${anyKeyNull({ columns, references: mapping.keyColumns }, 'r')})
        AND NOT EXISTS (SELECT 1 FROM ${qq(mapping.name)} q WHERE ${parentMatch({ columns, references: mapping.keyColumns }, 'q', 'r')} AND q.${qi(mapping.orgColumn)} IS NOT NULL)
      ORDER BY ${columns.map((c) => `r.${qi(c)}`).join(', ')} LIMIT $1`, [limit]));
  const lines = rows.map((r) => `  (${r.key.map((v, i) => quoteValue(v, types[i]!)).join(', ')}, NULL /* org ${model.orgType} */),`);
  if (lines.length > 0) lines[lines.length - 1] = lines[lines.length - 1]!.replace(/,$/, '');
  return [
    `-- ${formatCount(rows.length)} ${displayName(mapped.name)} ${rows.length === 1 ? 'row has' : 'rows have'} no mapping and would get the default org ${model.defaultOrgId}.`,
    '-- Replace each NULL with the org the row belongs to (delete the lines that should keep the default), then run this.',
    `INSERT INTO ${qq(model.mapping.name)} (${[...model.mapping.keyColumns, model.mapping.orgColumn].map(qi).join(', ')}) VALUES`,
    ...lines,
    ';',
    '',
  ].join('\n');
}

function quoteValue(value: string, type: string): string {
  return /^(smallint|integer|bigint|numeric)/.test(type) ? value : ql(value);
}
