// The org column, the (key, org) assignments of mapping and query rules, and the triggers that give new rows their org.
import { displayName, quoteIdent as qi, quoteLiteral as ql, quoteQualified as qq } from '../../db/sql';
import type { MigrationModel, TableModel } from '../../model';
import { ASSIGN_TRIGGER, names } from '../../names';
import { currentOrgExpression } from '../context';
import { PROBLEM, doBlock, named, orgValue, revokeFromOthers } from './common';
import { definerFunction, definerRole, type DefinerReads } from './definer';
import { backfillOf } from './partitions';
import { anyKeyNull, keyLabel, pairKey, parentMatch } from '../../key-columns';

export function addColumns(m: MigrationModel): string[] {
  return m.tables.map((t) =>
    named(
      `add the column ${m.orgColumn} ${m.orgType} (nullable: no rewrite)`,
      displayName(t.name),
      `ALTER TABLE ${qq(t.name)} ADD COLUMN IF NOT EXISTS ${qi(m.orgColumn)} ${m.orgType};`,
    ),
  );
}

/** The (key, org_id) pairs a mapping or query rule gives, and how errors name their source. */
export function pairSource(m: MigrationModel, t: TableModel): { label: string; pairs: string } {
  return t.rule.kind === 'mapping'
    ? {
        label: `mapping table ${qq(m.mapping!.name)}`,
        pairs: `SELECT ${pairKey(m.mapping!.keyColumns, 'm')} AS key, m.${qi(m.mapping!.orgColumn)} AS org_id FROM ${qq(m.mapping!.name)} AS m`,
      }
    : { label: `query of ${qq(t.name)}`, pairs: (t.rule as { sql: string }).sql };
}

const conflictError = (
  label: string,
  pairs: string,
) => `RAISE EXCEPTION 'tenant-migration: conflicting org assignments in the %: %', ${ql(label)}, (
        SELECT string_agg(format('%s -> {%s}', c.key, c.orgs), '; ') FROM (
          SELECT q.key, string_agg(DISTINCT q.org_id::text, ', ') AS orgs FROM (${pairs}) AS q
           WHERE q.key IS NOT NULL AND q.org_id IS NOT NULL GROUP BY q.key HAVING count(DISTINCT q.org_id) > 1 ORDER BY q.key LIMIT 5) AS c)
        USING HINT = 'Each key must map to one org: delete the wrong rows, then run again.';`;

/** Adds the pairs whose key the assignment table lacks, in key order; a key with two orgs refuses, naming them. */
const loadNewPairs = (m: MigrationModel, t: TableModel, table: string) => {
  const { label, pairs } = pairSource(m, t);
  return `BEGIN
      INSERT INTO ${table} (key, org_id)
      SELECT DISTINCT q.key, q.org_id FROM (${pairs}) AS q
       WHERE q.key IS NOT NULL AND q.org_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${table} AS a WHERE a.key = q.key)
      ORDER BY q.key;
    EXCEPTION WHEN unique_violation THEN
      ${conflictError(label, pairs)}
    END;
    SELECT string_agg(DISTINCT a.org_id::text, ', ') INTO problem FROM (SELECT a0.org_id FROM ${table} AS a0
      WHERE NOT EXISTS (SELECT 1 FROM ${qq(m.orgs.name)} o WHERE o.${qi(m.orgs.idColumn)} = a0.org_id) LIMIT 5) AS a;
    IF problem IS NOT NULL THEN
      RAISE EXCEPTION 'tenant-migration: the % assigns orgs that do not exist in %: %', ${ql(label)}, ${ql(qq(m.orgs.name))}, problem
        USING HINT = 'Create those orgs, or fix the mapping rows, then run again.';
    END IF;
    ANALYZE ${table};`;
};

/**
 * The set-wise (key, org) assignments of mapping and query tables, read into the tool's own state right before the
 * org column is added (after the backups: no user table has changed yet), indexed for the backfill and the triggers.
 * Loaded in key order (the primary key's index grows at its right edge); the primary key is the conflict check: a
 * key with two orgs refuses the run, naming them, and so does an org that does not exist. A refusal leaves no
 * assignment table behind, so the next run reads the fixed rows. Until the table's backfill starts, a re-run brings
 * them up to the mapping as it is then (rows the operator fixed or added since count); the same statement does one or
 * the other, so the mapping is read once in a run.
 */
export function assignments(m: MigrationModel): string[] {
  return m.tables
    .filter((t) => t.rule.kind !== 'parent')
    .map((t) => {
      const table = qq(names.assignTable(t.name));
      return named(
        'read the org assignments from the mapping (until the backfill starts), refusing a key with two orgs or a missing org',
        displayName(t.name),
        doBlock(
          `  IF to_regclass(${ql(table)}) IS NULL THEN
    CREATE TABLE ${table} (key ${t.keyType} PRIMARY KEY, org_id ${m.orgType} NOT NULL);
    ${revokeFromOthers('TABLE', ql(table))}
    ${loadNewPairs(m, t, table)}
  ELSIF NOT EXISTS (SELECT 1 FROM ${names.state('backfill')} WHERE ${backfillOf(t)}) THEN
    DELETE FROM ${table} AS a WHERE NOT EXISTS (SELECT 1 FROM (${pairSource(m, t).pairs}) AS q WHERE q.key = a.key AND q.org_id = a.org_id);
    ${loadNewPairs(m, t, table)}
  END IF;`,
          [PROBLEM, 'grantee oid'],
        ),
      );
    });
}

const beforeBackfill = (t: TableModel, body: string) =>
  doBlock(
    `  IF NOT EXISTS (SELECT 1 FROM ${names.state('backfill')} WHERE ${backfillOf(t)}) THEN
    ${body}
  END IF;`,
    [PROBLEM],
  );

/**
 * Once the triggers exist, keys added to the mapping meanwhile are added too (rows written while the column was
 * added had no trigger). From then on the triggers catch every new row and the backfill reads a fixed snapshot.
 */
export function addNewAssignments(m: MigrationModel): string[] {
  return m.tables
    .filter((t) => t.rule.kind !== 'parent')
    .map((t) =>
      named(
        "add the mapping's keys written meanwhile (until the backfill starts)",
        displayName(t.name),
        beforeBackfill(t, loadNewPairs(m, t, qq(names.assignTable(t.name)))),
      ),
    );
}

/** PL/pgSQL: true when an UPDATE leaves the org and every key column as they were (nothing for the rule to decide). */
const unchangedByUpdate = (org: string, keys: readonly string[]) =>
  `TG_OP = 'UPDATE' AND NEW.${org} IS NOT DISTINCT FROM OLD.${org}${keys.map((k) => ` AND NEW.${qi(k)} IS NOT DISTINCT FROM OLD.${qi(k)}`).join('')}`;

/**
 * A parent rule: the row takes its parent's org, and a row may never reference a parent of another org, whoever
 * writes it (an UPDATE of the key, or an INSERT with an explicit org): its parent's org deleting the parent would
 * cascade into it. SQLSTATE 23503, the class of the foreign key's own error for a parent that does not exist; the
 * message never names the parent's org. One probe of the parent's key, and none for an UPDATE that changes neither.
 */
function parentBody(m: MigrationModel, t: TableModel & { rule: { kind: 'parent' } }): string {
  const org = `NEW.${qi(m.orgColumn)}`;
  const rule = t.rule;
  // A migrated parent without its org yet waits for its backfill (this row's comes after); one the spec does not
  // migrate and that holds no org never gets one, so the row takes the request's or the default org.
  const found = rule.parentMigrated ? 'FOUND' : 'parent_org IS NOT NULL';
  return `  IF ${unchangedByUpdate(qi(m.orgColumn), rule.columns)} THEN RETURN NEW; END IF;
  IF NOT (${anyKeyNull(rule, 'NEW')}) THEN
    SELECT p.${qi(m.orgColumn)} INTO parent_org FROM ${qq(rule.parent)} AS p WHERE ${parentMatch(rule, 'p', 'NEW')} LIMIT 1;
    IF ${found} THEN
      IF ${org} IS NULL THEN
        ${org} := parent_org;
      ELSIF parent_org <> ${org} THEN
        RAISE EXCEPTION 'tenant-migration: a row of % cannot reference a row of % by %: the parent row belongs to another org', ${ql(displayName(t.name))}, ${ql(displayName(rule.parent))}, ${ql(keyLabel(rule.columns))}
          USING ERRCODE = '23503', HINT = 'A row takes the org of its parent: reference a parent row of the row''s own org.';
      END IF;
      RETURN NEW;
    END IF;
  END IF;
  IF ${org} IS NOT NULL THEN RETURN NEW; END IF;
  IF TG_OP = 'INSERT' THEN ${org} := ${currentOrgExpression(m.loaded.spec.tenantContext, m.orgType)}; END IF;
  ${org} := coalesce(${org}, ${orgValue(m)});
  RETURN NEW;`;
}

/**
 * A mapping or query rule: the request's context first, then the rule, then the default. A request without a context
 * that writes an org the rule does not give is refused (the rule decides for it; a value it leaves out is filled).
 */
function mappedBody(m: MigrationModel, t: TableModel & { rule: { kind: 'mapping' | 'query' } }): string {
  const org = `NEW.${qi(m.orgColumn)}`;
  const key = pairKey(t.rule.columns, 'NEW');
  const context = currentOrgExpression(m.loaded.spec.tenantContext, m.orgType);
  // Rows that existed when the assignments were read get the assignment's answer, as their backfill would; only a
  // new row asks the live source (a mapping table without an index on its key costs a scan per call).
  const byRule = (
    into: string,
  ) => `SELECT a.org_id INTO ${into} FROM ${qq(names.assignTable(t.name))} AS a WHERE a.key = ${key};
    IF ${into} IS NULL AND TG_OP = 'INSERT' THEN
      ${
        t.rule.kind === 'mapping'
          ? `SELECT q.${qi(m.mapping!.orgColumn)} INTO ${into} FROM ${qq(m.mapping!.name)} AS q WHERE ${parentMatch({ columns: t.rule.columns, references: m.mapping!.keyColumns }, 'q', 'NEW')} AND q.${qi(m.mapping!.orgColumn)} IS NOT NULL LIMIT 1;`
          : `SELECT q.org_id INTO ${into} FROM (${(t.rule as { sql: string }).sql}) AS q WHERE q.key = ${key} AND q.org_id IS NOT NULL LIMIT 1;`
      }
    END IF;`;
  return `  IF ${org} IS NOT NULL THEN
    IF TG_OP = 'INSERT' AND ${key} IS NOT NULL AND ${context} IS NULL THEN
      ${byRule('rule_org')}
      IF rule_org <> ${org} THEN
        RAISE EXCEPTION 'tenant-migration: a request without a tenant context cannot insert a row of % with another % than its rule gives', ${ql(displayName(t.name))}, ${ql(m.orgColumn)}
          USING ERRCODE = '42501', HINT = ${ql(`Leave ${m.orgColumn} out (the rule fills it in), or send the tenant context with the request.`)};
      END IF;
    END IF;
    RETURN NEW;
  END IF;
  IF TG_OP = 'INSERT' THEN ${org} := ${context}; END IF;
  IF ${org} IS NULL AND ${key} IS NOT NULL THEN
    ${byRule(org)}
  END IF;
  ${org} := coalesce(${org}, ${orgValue(m)});
  RETURN NEW;`;
}

/** What an org trigger reads, and nothing more: the role it runs as is granted exactly this. */
function assignReads(m: MigrationModel, t: TableModel): DefinerReads {
  const rule = t.rule;
  if (rule.kind === 'parent')
    return { columns: [{ table: rule.parent, columns: [...new Set([m.orgColumn, ...rule.references])] }] };
  const assigned = names.assignTable(t.name);
  if (rule.kind === 'mapping')
    return {
      tables: [assigned],
      columns: [{ table: m.mapping!.name, columns: [...new Set([...m.mapping!.keyColumns, m.mapping!.orgColumn])] }],
    };
  return { tables: [assigned, ...rule.relations] };
}

/** Rows the application writes while (and after) the migration runs get their org by the same rules, until finalize. */
export function assignTriggers(m: MigrationModel): string[] {
  return [
    ...definerRole().map((sql) =>
      named('create the role the triggers run as (no login, bypasses row-level security)', undefined, sql),
    ),
    ...m.tables.flatMap((t) => {
      const fn = names.assignFunction(t.name);
      const declare = `DECLARE\n  ${t.rule.kind === 'parent' ? 'parent_org' : 'rule_org'} ${m.orgType};\n`;
      return [
        named(
          'create the function that gives a new row its org',
          displayName(t.name),
          definerFunction(
            fn,
            `\n${declare}BEGIN\n${t.rule.kind === 'parent' ? parentBody(m, t as TableModel & { rule: { kind: 'parent' } }) : mappedBody(m, t as TableModel & { rule: { kind: 'mapping' | 'query' } })}\nEND\n`,
            assignReads(m, t),
          ),
        ),
        named(
          'create the trigger that gives new rows their org',
          displayName(t.name),
          `CREATE OR REPLACE TRIGGER ${qi(ASSIGN_TRIGGER)} BEFORE INSERT OR UPDATE ON ${qq(t.name)} FOR EACH ROW EXECUTE FUNCTION ${qq(fn)}();`,
        ),
      ];
    }),
  ];
}

/** The org a row gets by its table's rule (for a row of ${t} aliased `t`), the default when the rule gives none. */
export function orgByRule(m: MigrationModel, t: TableModel): string {
  if (t.rule.kind === 'parent') {
    return `coalesce((SELECT p.${qi(m.orgColumn)} FROM ${qq(t.rule.parent)} AS p WHERE ${parentMatch(t.rule, 'p', 't')} LIMIT 1), ${orgValue(m)})`;
  }
  return `coalesce((SELECT a.org_id FROM ${qq(names.assignTable(t.name))} AS a WHERE a.key = ${pairKey(t.rule.columns, 't')}), ${orgValue(m)})`;
}
