// A table that already has the org column: used when it is of the org type, not generated, and every filled value
// is an org; its empty rows are filled, and rollback puts back the NULLs (by primary key, from the backup).
import { displayName, quoteIdent as qi, quoteQualified as qq } from '../db/sql';
import { column } from '../introspect';
import { STATE_SCHEMA, names } from '../names';
import type { MigrationModel, TableModel } from '../model';
import type { ShapeDetector, ShapeFinding } from './finding';
import { pairKey, parentMatch } from '../key-columns';
import { pairSource } from '../script/sections';
import { plural } from '../../shared/format';

/**
 * The org the migration will give a row of t (named by alias): the rule's org, or the default. Through a parent,
 * the parent's own value when it already has the column (kept), else its rule's.
 */
function ruleOrg(
  m: MigrationModel,
  t: TableModel,
  alias: string,
  preExisting: (t: TableModel) => boolean,
  depth = 0,
): string {
  const fallback = `$1::text::${m.orgType}`;
  const org = qi(m.orgColumn);
  if (t.rule.kind === 'parent') {
    const rule = t.rule;
    const p = `p${depth}`;
    const match = parentMatch(rule, p, alias);
    // A parent the spec does not migrate gives the org it holds, as it is.
    if (!rule.parentMigrated)
      return `coalesce((SELECT ${p}.${org} FROM ${qq(rule.parent)} AS ${p} WHERE ${match} LIMIT 1), ${fallback})`;
    const parent = m.tables.find((x) => x.name.schema === rule.parent.schema && x.name.name === rule.parent.name)!;
    const parentOrg = ruleOrg(m, parent, p, preExisting, depth + 1);
    const own = preExisting(parent) ? `coalesce(${p}.${org}, ${parentOrg})` : parentOrg;
    return `coalesce((SELECT ${own} FROM ${qq(parent.name)} AS ${p} WHERE ${match} LIMIT 1), ${fallback})`;
  }
  const { pairs } = pairSource(m, t);
  return `coalesce((SELECT q${depth}.org_id FROM (${pairs}) AS q${depth} WHERE q${depth}.key = ${pairKey(t.rule.columns, alias)} AND q${depth}.org_id IS NOT NULL LIMIT 1), ${fallback})`;
}

/**
 * Tables the migration has started on (snapshot taken): their column was checked before that, and rows written
 * since may carry their writer's org; with had_org_column false, the column is the migration's own.
 */
export async function snapshotted(session: Parameters<ShapeDetector>[0]): Promise<Map<string, boolean>> {
  // A state schema this user may not use is refused later, by name, when the run starts: not here, as a permission error.
  const present = (
    await session.query<{ ok: boolean }>(
      `SELECT CASE WHEN to_regnamespace($1) IS NULL THEN false WHEN NOT has_schema_privilege($1, 'USAGE') THEN false ELSE to_regclass($2) IS NOT NULL END AS ok`,
      [STATE_SCHEMA, `${STATE_SCHEMA}.snapshot`],
    )
  ).rows[0]!.ok;
  if (!present) return new Map();
  const { rows } = await session.query<{ key: string; had: boolean }>(
    `SELECT table_schema || '.' || table_name AS key, had_org_column AS had FROM ${names.state('snapshot')}`,
  );
  return new Map(rows.map((r) => [r.key, r.had]));
}

export const existingOrgColumn: ShapeDetector = async (session, model) => {
  const started = await snapshotted(session);
  const key = (t: TableModel) => `${t.name.schema}.${t.name.name}`;
  const findings: ShapeFinding[] = [];
  const org = qi(model.orgColumn);
  const preExisting = (t: TableModel) => !!column(t.info, model.orgColumn) && started.get(key(t)) !== false;
  for (const t of model.tables) {
    const existing = column(t.info, model.orgColumn);
    if (!existing || started.has(key(t))) continue;
    const table = displayName(t.name);
    const object = `${table}.${model.orgColumn}`;
    if (existing.generated || existing.identity) {
      findings.push({
        kind: 'org-column',
        table,
        object,
        blocking: true,
        message: `${object} already exists and is ${existing.generated ? 'a generated column' : 'an identity column'}: the migration cannot write it`,
        fix: `Rename it (ALTER TABLE ${qq(t.name)} RENAME COLUMN ${org} TO ${qi(`${model.orgColumn}_old`)};) or set "orgColumn" in the spec to another name.`,
      });
      continue;
    }
    const { rows } = await session.query<{ empty: string; unknown: string; samples: string | null; differ: string }>(
      `SELECT count(*) FILTER (WHERE t.${org} IS NULL)::text AS empty,
              count(*) FILTER (WHERE t.${org} IS NOT NULL AND t.${org} IS DISTINCT FROM ${ruleOrg(model, t, 't', preExisting)})::text AS differ,
              count(*) FILTER (WHERE t.${org} IS NOT NULL AND o.${qi(model.orgs.idColumn)} IS NULL)::text AS unknown,
              string_agg(DISTINCT t.${org}::text, ', ') FILTER (WHERE t.${org} IS NOT NULL AND o.${qi(model.orgs.idColumn)} IS NULL) AS samples
         FROM ${qq(t.name)} AS t LEFT JOIN ${qq(model.orgs.name)} AS o ON o.${qi(model.orgs.idColumn)} = t.${org}`,
      [model.defaultOrgId],
    );
    const empty = Number(rows[0]!.empty);
    const unknown = Number(rows[0]!.unknown);
    if (unknown > 0) {
      findings.push({
        kind: 'org-column',
        table,
        object,
        blocking: true,
        message: `${object} already exists and ${plural(Number(unknown), 'row holds', 'rows hold')} an org that is not in ${displayName(model.orgs.name)} (${(rows[0]!.samples ?? '').slice(0, 200)}): the foreign key would fail half-way`,
        fix: `Create those orgs, or empty the values (UPDATE ${qq(t.name)} SET ${org} = NULL WHERE ${org} NOT IN (SELECT ${qi(model.orgs.idColumn)} FROM ${qq(model.orgs.name)});) so the spec's rule decides them.`,
      });
      continue;
    }
    const differ = Number(rows[0]!.differ);
    if (differ > 0) {
      findings.push({
        kind: 'org-column',
        table,
        object,
        blocking: true,
        message: `${object} already exists and ${plural(Number(differ), 'row holds', 'rows hold')} another org than the spec's rule gives them (${t.rule.kind === 'parent' ? "their parent's org" : `the ${t.rule.kind}'s org, or the default`}): validation would fail after the migration`,
        fix: `Correct those values, or empty them (SET ${org} = NULL) so the rule decides them, or change the rule in the spec.`,
      });
      continue;
    }
    if (empty > 0 && t.info.primaryKey.length === 0) {
      findings.push({
        kind: 'org-column',
        table,
        object,
        blocking: true,
        message: `${object} already exists with ${plural(Number(empty), 'empty row')}, and ${table} has no primary key: rollback could not tell which rows to empty again`,
        fix: `Add a primary key to ${table}, or fill ${object} yourself first.`,
      });
      continue;
    }
    findings.push({
      kind: 'org-column',
      table,
      object,
      blocking: false,
      message:
        `${object} already exists (${existing.type}${existing.notNull ? ', NOT NULL' : ''}): its filled values are kept, ${plural(Number(empty), 'empty row gets', 'empty rows get')} their org by the spec's rule; ` +
        'rollback keeps the column and puts back its nullability and the empty values, and drops only the constraint and index the migration added',
    });
  }
  return findings;
};
