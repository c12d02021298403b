// Mapping gaps: per table, how each row's org will be decided and where it cannot. Read-only; set-wise queries.
import type { Session } from './db/session';
import { displayName, quoteIdent as qi, quoteQualified as qq } from './db/sql';
import type { MigrationModel, TableModel } from './model';

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
}

export interface GapReport {
  readonly tables: TableAssignment[];
  readonly findings: GapFinding[];
  readonly blocking: boolean;
}

const SAMPLE = 5;

async function countAndSample(session: Session, from: string, keyExpr: string, detailExpr = 'NULL'): Promise<{ count: number; samples: GapSample[] }> {
  const { rows } = await session.query<{ count: string; samples: GapSample[] | null }>(
    `SELECT count(*)::text AS count,
            (SELECT json_agg(json_build_object('key', s.key, 'detail', s.detail)) FROM (SELECT ${keyExpr}::text AS key, ${detailExpr}::text AS detail ${from} LIMIT ${SAMPLE}) s) AS samples
       ${from}`);
  return { count: Number(rows[0]!.count), samples: (rows[0]!.samples ?? []).map((s) => (s.detail == null ? { key: s.key } : s)) };
}

function pairsOf(m: MigrationModel, t: TableModel): string {
  return t.rule.kind === 'mapping'
    ? `SELECT ${qi(m.mapping!.keyColumn)} AS key, ${qi(m.mapping!.orgColumn)} AS org_id FROM ${qq(m.mapping!.name)}`
    : (t.rule as { sql: string }).sql;
}

async function pairFindings(session: Session, m: MigrationModel, t: TableModel, label: string): Promise<GapFinding[]> {
  const pairs = `(${pairsOf(m, t)}) AS q`;
  const orgs = qq(m.orgs.name);
  const findings: GapFinding[] = [];
  const conflict = await countAndSample(session,
    `FROM (SELECT q.key, string_agg(DISTINCT q.org_id::text, ', ') AS orgs FROM ${pairs} WHERE q.key IS NOT NULL AND q.org_id IS NOT NULL GROUP BY q.key HAVING count(DISTINCT q.org_id) > 1) c`,
    'c.key', `'maps to ' || c.orgs`);
  if (conflict.count > 0) findings.push({ kind: 'conflict', table: label, ...conflict, blocking: true, message: `${conflict.count} key(s) map to more than one org in the ${t.rule.kind === 'mapping' ? 'mapping table' : 'query'}: the run refuses until each maps to one org` });
  const missing = await countAndSample(session,
    `FROM ${pairs} WHERE q.org_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${orgs} o WHERE o.${qi(m.orgs.idColumn)} = q.org_id)`,
    'q.key', `'org ' || q.org_id || ' does not exist'`);
  if (missing.count > 0) findings.push({ kind: 'missing-org', table: label, ...missing, blocking: true, message: `${missing.count} mapping row(s) point to an org that does not exist in ${displayName(m.orgs.name)}` });
  if (t.rule.kind === 'mapping') {
    const stale = await countAndSample(session,
      `FROM ${pairs} WHERE q.key IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${qq(t.name)} r WHERE r.${qi(t.rule.column)} = q.key)`, 'q.key');
    if (stale.count > 0) findings.push({ kind: 'stale-mapping', table: label, ...stale, blocking: false, message: `${stale.count} mapping row(s) name rows that no longer exist (ignored)` });
    const duplicates = await countAndSample(session,
      `FROM (SELECT q.key, q.org_id FROM ${pairs} WHERE q.key IS NOT NULL GROUP BY q.key, q.org_id HAVING count(*) > 1) d`, 'd.key', `'org ' || d.org_id`);
    if (duplicates.count > 0) findings.push({ kind: 'duplicate-mapping', table: label, ...duplicates, blocking: false, message: `${duplicates.count} key(s) have identical duplicate mapping rows (harmless)` });
  }
  return findings;
}

async function tableGaps(session: Session, m: MigrationModel, t: TableModel): Promise<{ assignment: TableAssignment; findings: GapFinding[] }> {
  const label = displayName(t.name);
  const table = qq(t.name);
  const key = qi(t.rule.column);
  const findings: GapFinding[] = [];
  const total = Number((await session.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${table}`)).rows[0]!.n);
  let unassigned: { count: number; samples: GapSample[] };
  let rule: string;
  if (t.rule.kind === 'parent') {
    const parent = qq(t.rule.parent);
    rule = `parent ${displayName(t.rule.parent)} via ${t.rule.column}`;
    unassigned = await countAndSample(session,
      `FROM ${table} r WHERE r.${key} IS NULL OR NOT EXISTS (SELECT 1 FROM ${parent} p WHERE p.${qi(t.rule.references)} = r.${key})`,
      `r.${key}`, `CASE WHEN r.${key} IS NULL THEN 'no ${t.rule.column}' ELSE 'parent missing' END`);
    if (unassigned.count > 0) findings.push({ kind: 'orphan-child', table: label, ...unassigned, blocking: false, message: `${unassigned.count} row(s) have no parent row and get the default org` });
  } else {
    findings.push(...await pairFindings(session, m, t, label));
    rule = t.rule.kind === 'mapping' ? `mapping ${displayName(m.mapping!.name)} by ${t.rule.column}` : `query by ${t.rule.column}`;
    unassigned = await countAndSample(session,
      `FROM ${table} r WHERE r.${key} IS NULL OR NOT EXISTS (SELECT 1 FROM (${pairsOf(m, t)}) q WHERE q.key = r.${key} AND q.org_id IS NOT NULL)`, `r.${key}`);
    if (unassigned.count > 0) findings.push({ kind: 'unmapped', table: label, ...unassigned, blocking: false, message: `${unassigned.count} row(s) have no mapping and get the default org ${m.defaultOrgId}` });
  }
  return { assignment: { table: label, rule, rows: total, assigned: total - unassigned.count, toDefault: unassigned.count }, findings };
}

export async function findGaps(session: Session, model: MigrationModel): Promise<GapReport> {
  const tables: TableAssignment[] = [];
  const findings: GapFinding[] = [];
  for (const t of model.tables) {
    const result = await tableGaps(session, model, t);
    tables.push(result.assignment);
    findings.push(...result.findings);
  }
  return { tables, findings, blocking: findings.some((f) => f.blocking) };
}

/** SQL the operator fills in: one mapping row per unmapped key, org left for them to choose. */
export async function mappingStub(session: Session, model: MigrationModel, limit = 1000): Promise<string> {
  const mapped = model.tables.find((t) => t.rule.kind === 'mapping');
  if (!mapped || !model.mapping) return '-- No table takes its org from the mapping table.\n';
  const key = qi(mapped.rule.column);
  const { rows } = await session.query<{ key: string }>(
    `SELECT r.${key}::text AS key FROM ${qq(mapped.name)} r
      WHERE r.${key} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${qq(model.mapping.name)} q WHERE q.${qi(model.mapping.keyColumn)} = r.${key} AND q.${qi(model.mapping.orgColumn)} IS NOT NULL)
      ORDER BY r.${key} LIMIT $1`, [limit]);
  const lines = rows.map((r) => `  (${quoteValue(r.key, mapped.keyType)}, NULL /* org ${model.orgType} */),`);
  if (lines.length > 0) lines[lines.length - 1] = lines[lines.length - 1]!.replace(/,$/, '');
  return [
    `-- ${rows.length} ${displayName(mapped.name)} row(s) have no mapping and would get the default org ${model.defaultOrgId}.`,
    '-- Replace each NULL with the org the row belongs to (delete the lines that should keep the default), then run this.',
    `INSERT INTO ${qq(model.mapping.name)} (${qi(model.mapping.keyColumn)}, ${qi(model.mapping.orgColumn)}) VALUES`,
    ...lines,
    ';',
    '',
  ].join('\n');
}

function quoteValue(value: string, type: string): string {
  return /^(smallint|integer|bigint|numeric)/.test(type) ? value : `'${value.replace(/'/g, "''")}'`;
}
