// The gaps of a parent rule: rows with NULL in a key column, rows whose parent is missing, and, for a parent the spec
// does not migrate, parents that hold no org or one that does not exist. Every comparison is over all key columns.
import type { Session } from './db/session';
import { displayName, quoteIdent as qi, quoteLiteral as ql, quoteQualified as qq } from './db/sql';
import type { GapFinding, GapOptions, GapSample, TableAssignment } from './gaps';
import { estimateAbove, SAMPLE, SAMPLE_ROWS, estimatedRows, firstRows } from './gap-queries';
import { anyKeyNull, keyLabel, keyText, nullColumnsText, parentMatch } from './key-columns';
import type { MigrationModel, OrgRule, TableModel } from './model';
import { plural } from '../shared/format';

export type ParentTable = TableModel & { rule: Extract<OrgRule, { kind: 'parent' }> };

/** A validated foreign key from exactly the rule's columns to the parent's, paired the same way. */
async function hasValidatedForeignKey(session: Session, t: ParentTable): Promise<boolean> {
  const { rows } = await session.query<{ columns: string[]; refcolumns: string[] }>(
    `SELECT ARRAY(SELECT attname FROM unnest(c.conkey) WITH ORDINALITY k(n, o) JOIN pg_attribute ON attrelid = c.conrelid AND attnum = k.n ORDER BY o)::text[] AS columns,
            ARRAY(SELECT attname FROM unnest(c.confkey) WITH ORDINALITY k(n, o) JOIN pg_attribute ON attrelid = c.confrelid AND attnum = k.n ORDER BY o)::text[] AS refcolumns
       FROM pg_constraint c WHERE c.contype = 'f' AND c.convalidated AND c.conrelid = $1::regclass AND c.confrelid = $2::regclass`,
    [qq(t.name), qq(t.rule.parent)],
  );
  const { columns, references } = t.rule;
  return rows.some(
    (fk) =>
      fk.columns.length === columns.length &&
      columns.every((c, i) => fk.refcolumns[fk.columns.indexOf(c)] === references[i]),
  );
}

interface ParentCounts {
  rows: number;
  nullKeys: number;
  orphans: number;
}

async function countParentGaps(
  session: Session,
  t: ParentTable,
  validated: boolean,
  total: number,
  estimated: boolean,
): Promise<ParentCounts> {
  const table = qq(t.name);
  const parent = qq(t.rule.parent);
  const nullKey = anyKeyNull(t.rule, 'r');
  if (estimated && validated && t.rule.columns.length === 1) {
    const { rows: stats } = await session.query<{ null_frac: number | null }>(
      `SELECT null_frac::float8 AS null_frac FROM pg_stats WHERE schemaname = $1 AND tablename = $2 AND attname = $3`,
      [t.name.schema, t.name.name, t.rule.columns[0]],
    );
    return { rows: Math.round(total), nullKeys: Math.round((stats[0]?.null_frac ?? 0) * total), orphans: 0 };
  }
  if (estimated) {
    const { rows: sample } = await session.query<{ sampled: string; null_keys: string; orphans: string }>(
      `SELECT count(*)::text AS sampled, count(*) FILTER (WHERE ${nullKey})::text AS null_keys,
              count(*) FILTER (WHERE NOT (${nullKey}) AND NOT EXISTS (SELECT 1 FROM ${parent} p WHERE ${parentMatch(t.rule, 'p', 'r')}))::text AS orphans
         FROM ${table} r TABLESAMPLE SYSTEM ($1) REPEATABLE (7)`,
      [Math.min(100, (100 * SAMPLE_ROWS) / total)],
    );
    const sampled = Number(sample[0]!.sampled);
    const scale = (n: string) => (sampled === 0 ? 0 : Math.round((Number(n) / sampled) * total));
    return { rows: Math.round(total), nullKeys: scale(sample[0]!.null_keys), orphans: scale(sample[0]!.orphans) };
  }
  // A LEFT JOIN to the distinct parent keys (a NULL key never finds a parent) is planned as a hash join; a FILTER with
  // NOT EXISTS would probe per row.
  const refs = t.rule.references.map((r, i) => `p.${qi(r)} AS k${i}`).join(', ');
  const joined = t.rule.columns.map((c, i) => `p.k${i} = r.${qi(c)}`).join(' AND ');
  const { rows: counted } = await session.query<{ total: string; null_keys: string; orphans: string }>(
    validated
      ? `SELECT count(*)::text AS total, count(*) FILTER (WHERE ${nullKey})::text AS null_keys, '0' AS orphans FROM ${table} r`
      : `SELECT count(*)::text AS total, count(*) FILTER (WHERE ${nullKey})::text AS null_keys,
              count(*) FILTER (WHERE p.present IS NULL AND NOT (${nullKey}))::text AS orphans
         FROM ${table} r LEFT JOIN (SELECT DISTINCT true AS present, ${refs} FROM ${parent} p) p ON ${joined}`,
  );
  return {
    rows: Number(counted[0]!.total),
    nullKeys: Number(counted[0]!.null_keys),
    orphans: Number(counted[0]!.orphans),
  };
}

/**
 * A parent the spec does not migrate gives the org it holds: rows whose parent holds none get the default, and a
 * parent holding an org that does not exist blocks the run (the foreign key to the orgs would fail after the backfill).
 */
async function unmigratedParentGaps(
  session: Session,
  m: MigrationModel,
  t: ParentTable,
  label: string,
  sample?: { percent: number; total: number },
): Promise<{ findings: GapFinding[]; toDefault: number; pending: string[] }> {
  const org = qi(m.orgColumn);
  const sampled = sample ? ` TABLESAMPLE SYSTEM (${Number(sample.percent)}) REPEATABLE (7)` : '';
  const from = `FROM ${qq(t.name)} r${sampled} JOIN LATERAL (SELECT p.${org} AS org FROM ${qq(t.rule.parent)} p WHERE ${parentMatch(t.rule, 'p', 'r')} LIMIT 1) p ON true`;
  const missing = `p.org IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${qq(m.orgs.name)} o WHERE o.${qi(m.orgs.idColumn)} = p.org)`;
  const { rows } = await session.query<{ no_org: string; missing: string; sampled: string }>(
    `SELECT count(*) FILTER (WHERE p.org IS NULL)::text AS no_org, count(*) FILTER (WHERE ${missing})::text AS missing,
            (SELECT count(*) FROM ${qq(t.name)} r${sampled})::text AS sampled ${from}`,
  );
  // A sample's counts scaled to the table (a row without a parent is counted by the caller, not here).
  const scale = (n: number) =>
    sample ? Math.max(n, Math.round((n / Math.max(1, Number(rows[0]!.sampled))) * sample.total)) : n;
  const about = sample ? 'about ' : '';
  const findings: GapFinding[] = [];
  const parent = displayName(t.rule.parent);
  const noOrg = scale(Number(rows[0]!.no_org));
  if (noOrg > 0) {
    findings.push({
      kind: 'orphan-child',
      table: label,
      count: noOrg,
      blocking: false,
      samples: await firstRows(
        session,
        `${from} WHERE p.org IS NULL`,
        keyText(t.rule, 'r'),
        ql(`${parent}.${m.orgColumn} is NULL`),
      ),
      message: `${about}${plural(noOrg, 'row')} ${noOrg === 1 ? 'has a parent' : 'have parents'} in ${parent} (not migrated) without an ${m.orgColumn} and ${noOrg === 1 ? 'gets' : 'get'} the default org`,
    });
  }
  const n = scale(Number(rows[0]!.missing));
  if (n > 0) {
    findings.push({
      kind: 'missing-org',
      table: label,
      count: n,
      blocking: true,
      ...(sample ? { estimated: true } : {}),
      samples: await firstRows(
        session,
        `${from} WHERE ${missing}`,
        keyText(t.rule, 'r'),
        `'org ' || p.org || ' does not exist'`,
      ),
      message: `${about}${plural(n, 'row')} ${n === 1 ? 'has a parent' : 'have parents'} in ${parent} (not migrated) whose ${m.orgColumn} is not an org of ${displayName(m.orgs.name)}: the run refuses until they are corrected`,
    });
  }
  const pending = sample && n === 0 ? [`${label}: parents in ${parent} whose org does not exist`] : [];
  return { findings, toDefault: noOrg, pending };
}

export async function parentTableGaps(
  session: Session,
  m: MigrationModel,
  t: ParentTable,
  label: string,
  options: GapOptions,
): Promise<{ assignment: TableAssignment; findings: GapFinding[]; pending?: string[] }> {
  const table = qq(t.name);
  const parent = qq(t.rule.parent);
  const rule = `parent ${displayName(t.rule.parent)}${t.rule.parentMigrated ? '' : ' (not migrated: its org column is read)'} via ${keyLabel(t.rule.columns)}`;
  // A validated foreign key on the columns proves every key without a NULL has its parent: only NULL keys are left.
  const validated = await hasValidatedForeignKey(session, t);
  const total = options.quick || options.firstAnswer ? await estimatedRows(session, t) : -1;
  const estimated = total > estimateAbove(options);
  const { rows, nullKeys, orphans } = await countParentGaps(session, t, validated, total, estimated);
  const about = estimated ? 'about ' : '';
  const findings: GapFinding[] = [];
  if (nullKeys > 0) {
    const { rows: sample } = await session.query<GapSample>(
      `SELECT ${keyText(t.rule, 'r')} AS key, ${nullColumnsText(t.rule, 'r')} AS detail FROM ${table} r WHERE ${anyKeyNull(t.rule, 'r')} LIMIT ${SAMPLE}`,
    );
    const columns = t.rule.columns.length === 1 ? t.rule.columns[0]! : `one of ${t.rule.columns.join(', ')}`;
    findings.push({
      kind: 'null-key',
      table: label,
      count: nullKeys,
      blocking: false,
      samples: sample,
      message: `${about}${plural(nullKeys, 'row')} ${nullKeys === 1 ? 'has' : 'have'} no ${columns} (NULL), so no parent row, and ${nullKeys === 1 ? 'gets' : 'get'} the default org`,
    });
  }
  if (orphans > 0) {
    const { rows: sample } = await session.query<GapSample>(
      `SELECT ${keyText(t.rule, 'r')} AS key, 'parent missing' AS detail FROM ${table} r
        WHERE NOT (${anyKeyNull(t.rule, 'r')}) AND NOT EXISTS (SELECT 1 FROM ${parent} p WHERE ${parentMatch(t.rule, 'p', 'r')}) LIMIT ${SAMPLE}`,
    );
    findings.push({
      kind: 'orphan-child',
      table: label,
      count: orphans,
      blocking: false,
      samples: sample,
      message: `${about}${plural(orphans, 'row')} ${orphans === 1 ? 'has' : 'have'} no parent row and ${orphans === 1 ? 'gets' : 'get'} the default org`,
    });
  }
  let toDefault = nullKeys + orphans;
  let pending: string[] = [];
  if (!t.rule.parentMigrated) {
    const sample =
      options.firstAnswer && estimated ? { percent: Math.min(100, (100 * SAMPLE_ROWS) / total), total } : undefined;
    const unmigrated = await unmigratedParentGaps(session, m, t, label, sample);
    findings.push(...unmigrated.findings);
    toDefault += unmigrated.toDefault;
    pending = unmigrated.pending;
  }
  return {
    assignment: { table: label, rule, rows, assigned: rows - toDefault, toDefault, estimated },
    findings,
    pending,
  };
}
