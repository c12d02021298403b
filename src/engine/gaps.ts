// Mapping gaps: per table, how each row's org will be decided and where it cannot. Read-only; set-wise queries.
// What blocks a run (a key mapped to two orgs, an org that does not exist) is always counted exactly; how many rows
// get the default org may be estimated from a sample of a large table when a quick preview asks for it.
import type { Session } from './db/session';
import { displayName, quoteIdent as qi, quoteLiteral as ql, quoteQualified as qq } from './db/sql';
import type { MigrationModel, TableModel } from './model';
import { anyKeyNull, parentMatch } from './key-columns';
import { parentTableGaps, type ParentTable } from './parent-gaps';
import { pairTableLanes } from './pair-gaps';
import { formatCount } from '../shared/format';

export interface GapSample {
  readonly key: string;
  readonly detail?: string;
}

export interface GapFinding {
  readonly kind:
    'unmapped' | 'missing-org' | 'stale-mapping' | 'conflict' | 'duplicate-mapping' | 'orphan-child' | 'null-key';
  readonly table: string;
  readonly count: number;
  readonly samples: GapSample[];
  /** Blocking findings make the run refuse until they are resolved. */
  readonly blocking: boolean;
  readonly message: string;
  /** Found in a sample (the first answer): the rows are real, the count an estimate; the exact stage replaces it. */
  readonly estimated?: boolean;
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
  /** A blocking finding was found. With `pending` checks left, false means "none found yet", never "clear". */
  readonly blocking: boolean;
  /** The first answer only: the exact blocking checks not answered yet (empty or absent: every check has answered). */
  readonly pending?: string[];
}

export interface GapOptions {
  /** Estimate the row counts of large tables from a sample (the preview). */
  readonly quick?: boolean;
  /** What "large" means for `quick`: more rows than this (default ESTIMATE_ABOVE_ROWS). */
  readonly estimateAboveRows?: number;
  /**
   * The first answer: large tables' blocking checks are not run over every row either; they are proven from the
   * catalog, found in a sample, or reported pending (GapReport.pending) for the exact stage to answer.
   */
  readonly firstAnswer?: boolean;
}

export type TableGaps = { assignment: TableAssignment; findings: GapFinding[]; pending?: string[] };
/** A piece of the report that can run on any session, side by side with the others. */
export type Lane = (session: Session) => Promise<void>;

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

/**
 * Runs the lanes on the given sessions (the first one's siblings, opened here, up to GAPS_SESSIONS in all), each lane
 * on one session. The sessions given stay open; the ones opened here are closed.
 */
async function runLanes(given: readonly Session[], lanes: Lane[]): Promise<void> {
  const width = Math.max(1, Math.min(GAPS_SESSIONS, lanes.length));
  const sessions = given.slice(0, width);
  const mine: Session[] = [];
  try {
    const opened = await given[0]!.siblings('tenant-migration gaps', width - sessions.length);
    mine.push(...opened.sessions);
    sessions.push(...mine);
    if ('failure' in opened) throw opened.failure; // the ones that opened are closed below
    let next = 0;
    // Each session reads in a read-only transaction: the spec's query may call any function, and none may write here.
    await Promise.all(
      sessions.map((session) =>
        session.reading(async () => {
          // Sorting a million keys is faster than hashing them into a million groups (1.3–1.4 s against 1.6–1.8 s for
          // the conflict check on the benchmark's 870,000-row mapping). Local settings: the transaction's end undoes them.
          await session.query(
            `SELECT set_config('work_mem', $1, true), set_config('enable_hashagg', 'off', true), set_config('row_security', 'off', true)`,
            [GAPS_WORK_MEM],
          );
          while (next < lanes.length) await lanes[next++]!(session);
        }),
      ),
    );
  } finally {
    await Promise.all(mine.map((s) => s.close()));
  }
}

/** `session`: one session (siblings are opened for the report and closed), or sessions already open to read on. */
export async function findGaps(
  session: Session | readonly Session[],
  model: MigrationModel,
  options: GapOptions = {},
): Promise<GapReport> {
  const results: TableGaps[] = [];
  const lanes = model.tables.flatMap((t, i) =>
    tableLanes(model, t, options, (result) => {
      results[i] = result;
    }),
  );
  await runLanes(Array.isArray(session) ? session : [session as Session], lanes);
  return {
    tables: results.map((r) => r.assignment),
    findings: results.flatMap((r) => r.findings),
    blocking: results.some((r) => r.findings.some((f) => f.blocking)),
    ...(options.firstAnswer ? { pending: results.flatMap((r) => r.pending ?? []) } : {}),
  };
}

/** A first answer that is already the exact one: every check answered, nothing estimated. */
export function isExact(report: GapReport): boolean {
  return (
    !report.pending?.length && !report.tables.some((t) => t.estimated) && !report.findings.some((f) => f.estimated)
  );
}

/** SQL the operator fills in: one mapping row per unmapped key, org left for them to choose. */
export async function mappingStub(session: Session, model: MigrationModel, limit = 1000): Promise<string> {
  const mapped = model.tables.find((t) => t.rule.kind === 'mapping');
  const mapping = model.mapping;
  if (!mapped || !mapping) return '-- No table takes its org from the mapping table.\n';
  const columns = mapped.rule.columns;
  const types = columns.map((c) => mapped.info.columns.find((x) => x.name === c)!.type);
  const { rows } = await session.reading(() =>
    session.query<{ key: string[] }>(
      `SELECT ARRAY[${columns.map((c) => `r.${qi(c)}::text`).join(', ')}] AS key FROM ${qq(mapped.name)} r
      WHERE NOT (${anyKeyNull({ columns, references: mapping.keyColumns }, 'r')})
        AND NOT EXISTS (SELECT 1 FROM ${qq(mapping.name)} q WHERE ${parentMatch({ columns, references: mapping.keyColumns }, 'q', 'r')} AND q.${qi(mapping.orgColumn)} IS NOT NULL)
      ORDER BY ${columns.map((c) => `r.${qi(c)}`).join(', ')} LIMIT $1`,
      [limit],
    ),
  );
  const lines = rows.map(
    (r) => `  (${r.key.map((v, i) => quoteValue(v, types[i]!)).join(', ')}, NULL /* org ${model.orgType} */),`,
  );
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
