// Mapping gaps: per table, how each row's org will be decided and where it cannot. Read-only; set-wise queries.
// What blocks a run (a key mapped to two orgs, an org that does not exist) is always counted exactly; how many rows
// get the default org may be estimated from a sample of a large table when a quick preview asks for it.
import type { Session } from './db/session';
import { displayName, quoteIdent as qi, quoteLiteral as ql, quoteQualified as qq } from './db/sql';
import type { MigrationModel, TableModel } from './model';
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

const SAMPLE = 5;
/** Tables this large are sampled in a quick preview: counting them exactly takes seconds. */
export const ESTIMATE_ABOVE_ROWS = 200_000;
/** Rows a quick preview samples from a large table. */
const SAMPLE_ROWS = 20_000;

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

/** The first few keys (in key order) of a set that may be large: a top-N sort, never the whole set in memory. */
async function firstRows(session: Session, from: string, keyExpr: string, detailExpr = 'NULL'): Promise<GapSample[]> {
  const { rows } = await session.query<GapSample>(`SELECT ${keyExpr}::text AS key, ${detailExpr}::text AS detail ${from} ORDER BY ${keyExpr} LIMIT ${SAMPLE}`);
  return rows.map((r) => (r.detail == null ? { key: r.key } : r));
}

/** Rows per table from its statistics (a partitioned table's: its leaf partitions' summed); -1 when it was never analyzed. */
async function estimatedRows(session: Session, t: TableModel): Promise<number> {
  const { rows } = await session.query<{ n: number }>(
    `SELECT CASE WHEN c.relkind = 'p' THEN (SELECT coalesce(sum(greatest(l.reltuples, 0)), 0) FROM pg_partition_tree(c.oid) p JOIN pg_class l ON l.oid = p.relid WHERE p.isleaf)
                 ELSE c.reltuples END::float8 AS n FROM pg_class c WHERE c.oid = $1::regclass`, [qq(t.name)]);
  return rows[0]!.n;
}

interface RowCounts { rows: number; unassigned: number; unassignedKeys: string[]; stale?: { count: number; keys: string[] }; estimated: boolean }

/** Exact: the distinct mapped keys fully joined with the table's keys, hash joins, one pass over each. */
async function exactPairCounts(session: Session, m: MigrationModel, t: TableModel): Promise<RowCounts> {
  const key = qi(t.rule.column);
  const { rows } = await session.query<{ stale: string; rows: string; unassigned: string }>(
    `SELECT count(*) FILTER (WHERE r.present IS NULL)::text AS stale, count(*) FILTER (WHERE r.present)::text AS rows,
            count(*) FILTER (WHERE r.present AND k.key IS NULL)::text AS unassigned
       FROM (SELECT DISTINCT q.key FROM (${validPairs(m, t)}) AS q) k
       FULL JOIN (SELECT true AS present, x.${key} AS key FROM ${qq(t.name)} x) r ON r.key = k.key`);
  const counts = { stale: Number(rows[0]!.stale), rows: Number(rows[0]!.rows), unassigned: Number(rows[0]!.unassigned) };
  // NOT EXISTS alone (a NULL key never matches): PostgreSQL plans it as a hash anti-join.
  const unassignedKeys = counts.unassigned === 0 ? [] : await firstRows(session,
    `FROM ${qq(t.name)} r WHERE NOT EXISTS (SELECT 1 FROM (${validPairs(m, t)}) AS q WHERE q.key = r.${key})`, `r.${key}`);
  const staleKeys = counts.stale === 0 ? [] : await firstRows(session,
    `FROM (SELECT DISTINCT q.key FROM (${validPairs(m, t)}) AS q) q WHERE NOT EXISTS (SELECT 1 FROM ${qq(t.name)} r WHERE r.${key} = q.key)`, 'q.key');
  return { rows: counts.rows, unassigned: counts.unassigned, unassignedKeys: unassignedKeys.map((k) => k.key), stale: { count: counts.stale, keys: staleKeys.map((k) => k.key) }, estimated: false };
}

/** Estimated: a sample of the table's pages, its keys looked up in one pass over the mapping. */
async function sampledPairCounts(session: Session, m: MigrationModel, t: TableModel, total: number): Promise<RowCounts> {
  const percent = Math.min(100, (100 * SAMPLE_ROWS) / total);
  const { rows } = await session.query<{ sampled: string; unassigned: string; keys: string[] | null }>(
    `WITH s AS MATERIALIZED (SELECT x.${qi(t.rule.column)} AS key FROM ${qq(t.name)} x TABLESAMPLE SYSTEM ($1) REPEATABLE (7)),
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
  const rule = t.rule.kind === 'mapping' ? `mapping ${displayName(m.mapping!.name)} by ${t.rule.column}` : `query by ${t.rule.column}`;
  return { findings, assignment: { table: label, rule, rows: counts.rows, assigned: counts.rows - counts.unassigned, toDefault: counts.unassigned, estimated: counts.estimated } };
}

async function hasValidatedForeignKey(session: Session, t: TableModel): Promise<boolean> {
  if (t.rule.kind !== 'parent') return false;
  const { rows } = await session.query(
    `SELECT 1 FROM pg_constraint c
      WHERE c.contype = 'f' AND c.convalidated AND c.conrelid = $1::regclass AND c.confrelid = $2::regclass
        AND c.conkey = ARRAY[(SELECT attnum FROM pg_attribute WHERE attrelid = $1::regclass AND attname = $3)]
        AND c.confkey = ARRAY[(SELECT attnum FROM pg_attribute WHERE attrelid = $2::regclass AND attname = $4)]`,
    [qq(t.name), qq(t.rule.parent), t.rule.column, t.rule.references]);
  return rows.length > 0;
}

async function parentTableGaps(session: Session, t: TableModel & { rule: { kind: 'parent' } }, label: string, options: GapOptions): Promise<{ assignment: TableAssignment; findings: GapFinding[] }> {
  const table = qq(t.name);
  const key = qi(t.rule.column);
  const parent = qq(t.rule.parent);
  const ref = qi(t.rule.references);
  const rule = `parent ${displayName(t.rule.parent)} via ${t.rule.column}`;
  // A validated foreign key on the column proves every non-NULL key has its parent: only NULL keys are orphans.
  const validated = await hasValidatedForeignKey(session, t);
  const total = options.quick ? await estimatedRows(session, t) : -1;
  let rows: number;
  let orphans: number;
  const estimated = total > (options.estimateAboveRows ?? ESTIMATE_ABOVE_ROWS);
  if (estimated && validated) {
    const { rows: stats } = await session.query<{ null_frac: number | null }>(
      `SELECT null_frac::float8 AS null_frac FROM pg_stats WHERE schemaname = $1 AND tablename = $2 AND attname = $3`, [t.name.schema, t.name.name, t.rule.column]);
    rows = Math.round(total);
    orphans = Math.round((stats[0]?.null_frac ?? 0) * total);
  } else if (estimated) {
    const { rows: sample } = await session.query<{ sampled: string; orphans: string }>(
      `SELECT count(*)::text AS sampled, count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM ${parent} p WHERE p.${ref} = r.${key}))::text AS orphans
         FROM ${table} r TABLESAMPLE SYSTEM ($1) REPEATABLE (7)`, [Math.min(100, (100 * SAMPLE_ROWS) / total)]);
    rows = Math.round(total);
    orphans = Number(sample[0]!.sampled) === 0 ? 0 : Math.round((Number(sample[0]!.orphans) / Number(sample[0]!.sampled)) * total);
  } else {
    // NOT EXISTS alone (a NULL key never finds a parent) is planned as a hash anti-join; a FILTER would probe per row.
    const { rows: counted } = await session.query<{ total: string; orphans: string }>(validated
      ? `SELECT count(*)::text AS total, count(*) FILTER (WHERE r.${key} IS NULL)::text AS orphans FROM ${table} r`
      : `SELECT count(*)::text AS total, count(*) FILTER (WHERE p.present IS NULL)::text AS orphans
           FROM ${table} r LEFT JOIN (SELECT DISTINCT true AS present, p.${ref} AS ref FROM ${parent} p) p ON p.ref = r.${key}`);
    rows = Number(counted[0]!.total);
    orphans = Number(counted[0]!.orphans);
  }
  const findings: GapFinding[] = [];
  if (orphans > 0) {
    const where = validated ? `r.${key} IS NULL` : `NOT EXISTS (SELECT 1 FROM ${parent} p WHERE p.${ref} = r.${key})`;
    const { rows: sample } = await session.query<GapSample>(
      `SELECT r.${key}::text AS key, CASE WHEN r.${key} IS NULL THEN ${ql(`no ${t.rule.column}`)} ELSE 'parent missing' END AS detail FROM ${table} r WHERE ${where} LIMIT ${SAMPLE}`);
    findings.push({ kind: 'orphan-child', table: label, count: orphans, blocking: false, samples: sample,
      message: `${estimated ? 'about ' : ''}${plural(orphans, 'row')} ${orphans === 1 ? 'has' : 'have'} no parent row and ${orphans === 1 ? 'gets' : 'get'} the default org` });
  }
  return { assignment: { table: label, rule, rows, assigned: rows - orphans, toDefault: orphans, estimated }, findings };
}

function tableLanes(m: MigrationModel, t: TableModel, options: GapOptions, done: (result: TableGaps) => void): Lane[] {
  const label = displayName(t.name);
  return t.rule.kind === 'parent'
    ? [async (session) => done(await parentTableGaps(session, t as TableModel & { rule: { kind: 'parent' } }, label, options))]
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
  const key = qi(mapped.rule.column);
  const { rows } = await session.reading(() => session.query<{ key: string }>(
    `SELECT r.${key}::text AS key FROM ${qq(mapped.name)} r
      WHERE r.${key} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${qq(mapping.name)} q WHERE q.${qi(mapping.keyColumn)} = r.${key} AND q.${qi(mapping.orgColumn)} IS NOT NULL)
      ORDER BY r.${key} LIMIT $1`, [limit]));
  const lines = rows.map((r) => `  (${quoteValue(r.key, mapped.keyType)}, NULL /* org ${model.orgType} */),`);
  if (lines.length > 0) lines[lines.length - 1] = lines[lines.length - 1]!.replace(/,$/, '');
  return [
    `-- ${formatCount(rows.length)} ${displayName(mapped.name)} ${rows.length === 1 ? 'row has' : 'rows have'} no mapping and would get the default org ${model.defaultOrgId}.`,
    '-- Replace each NULL with the org the row belongs to (delete the lines that should keep the default), then run this.',
    `INSERT INTO ${qq(model.mapping.name)} (${qi(model.mapping.keyColumn)}, ${qi(model.mapping.orgColumn)}) VALUES`,
    ...lines,
    ';',
    '',
  ].join('\n');
}

function quoteValue(value: string, type: string): string {
  return /^(smallint|integer|bigint|numeric)/.test(type) ? value : ql(value);
}
