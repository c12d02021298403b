// The spec's per-object choices in the script: views switched to security_invoker, global uniques made per org. What
// each was before is recorded in the state schema (rollback puts it back exactly); every block is idempotent.
import { displayName, quoteIdent as qi, quoteLiteral as ql, quoteQualified as qq } from '../../db/sql';
import type { UniqueChoice } from '../../choices';
import type { MigrationModel, TableModel } from '../../model';
import { sameTable } from '../../introspect';
import { names } from '../../names';
import { PROBLEM, doBlock, named, patiently, revokeFromOthers } from './common';

const hasChoices = (m: MigrationModel) => m.views.length > 0 || m.uniques.length > 0;

/** A SQL predicate: the reloptions array `options` makes a view security_invoker (any spelling PostgreSQL accepts). */
export const invokerIn = (options: string) =>
  `coalesce((SELECT bool_or(split_part(o, '=', 2)::boolean) FROM unnest(${options}) AS o WHERE o LIKE 'security\\_invoker=%'), false)`;

const regclassOf = (name: { schema: string; name: string }) => `to_regclass(${ql(qq(name))})`;
/** The index is still the global one: it does not hold the org column. */
const stillGlobal = (
  m: MigrationModel,
  u: UniqueChoice,
) => `${regclassOf(u.index)} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey::int2[])
      WHERE i.indexrelid = ${regclassOf(u.index)} AND a.attname = ${ql(m.orgColumn)})`;

/** The state tables of what the choices replaced. */
export function choiceState(m: MigrationModel): string[] {
  if (!hasChoices(m)) return [];
  return [
    `CREATE TABLE IF NOT EXISTS ${names.state('view_options')} (
  view_schema text NOT NULL,
  view_name text NOT NULL,
  reloptions text[],
  PRIMARY KEY (view_schema, view_name)
);`,
    `CREATE TABLE IF NOT EXISTS ${names.state('unique_choices')} (
  index_schema text NOT NULL,
  index_name text NOT NULL,
  table_schema text NOT NULL,
  table_name text NOT NULL,
  per_org_name text NOT NULL,
  is_constraint boolean NOT NULL,
  constraint_def text,
  index_def text NOT NULL,
  index_options text[],
  PRIMARY KEY (index_schema, index_name)
);`,
    // Created after the state schema was locked down: no privilege for any role but the owner, whatever the default privileges grant.
    doBlock(
      ['view_options', 'unique_choices'].map((t) => `    ${revokeFromOthers('TABLE', ql(names.state(t)))}`).join('\n'),
      ['grantee oid'],
    ),
  ];
}

/** Refuses before any change what the script could not finish: a view choice below PostgreSQL 15, a unique a foreign key references. */
export function choicePreflight(m: MigrationModel): string[] {
  const views =
    m.views.length === 0
      ? []
      : [
          named(
            'refuse security_invoker views below PostgreSQL 15',
            undefined,
            doBlock(`  IF current_setting('server_version_num')::int < 150000 THEN
    RAISE EXCEPTION 'tenant-migration: the spec switches views to security_invoker, which PostgreSQL % does not have (15+)', current_setting('server_version')
      USING HINT = 'Remove "views" from the spec and generate the script again.';
  END IF;`),
          ),
        ];
  const uniques = m.uniques.map((u) =>
    named(
      'refuse a per-org unique that a foreign key references',
      displayName(u.index),
      doBlock(
        `  SELECT string_agg(format('%I on %s', conname, conrelid::regclass), ', ') INTO problem FROM pg_constraint WHERE contype = 'f' AND conindid = ${regclassOf(u.index)};
  IF problem IS NOT NULL THEN
    RAISE EXCEPTION 'tenant-migration: the foreign key % references %, which the spec makes per org', problem, ${ql(qq(u.index))}
      USING HINT = 'Remove it from "uniques" (a foreign key needs a unique constraint on exactly its columns), or move the foreign key first.';
  END IF;`,
        [PROBLEM],
      ),
    ),
  );
  return [...views, ...uniques];
}

/** Each chosen view's options and each chosen unique's definition, as they are before the migration. */
export function choiceSnapshot(m: MigrationModel): string[] {
  const views = m.views.map((v) =>
    named(
      "record the view's options, for rollback",
      displayName(v.name),
      `INSERT INTO ${names.state('view_options')} (view_schema, view_name, reloptions)
SELECT ${ql(v.name.schema)}, ${ql(v.name.name)}, c.reloptions FROM pg_class c WHERE c.oid = ${regclassOf(v.name)}
ON CONFLICT DO NOTHING;`,
    ),
  );
  const uniques = m.uniques.map((u) =>
    named(
      "record the unique's definition, for rollback",
      displayName(u.index),
      `INSERT INTO ${names.state('unique_choices')} (index_schema, index_name, table_schema, table_name, per_org_name, is_constraint, constraint_def, index_def, index_options)
SELECT ${ql(u.index.schema)}, ${ql(u.index.name)}, ${ql(u.table.schema)}, ${ql(u.table.name)}, ${ql(u.perOrgName)}, con.oid IS NOT NULL,
       pg_get_constraintdef(con.oid), pg_get_indexdef(ic.oid), ic.reloptions
  FROM pg_class ic LEFT JOIN pg_constraint con ON con.conindid = ic.oid AND con.contype = 'u'
 WHERE ic.oid = ${regclassOf(u.index)} AND ${stillGlobal(m, u)}
ON CONFLICT DO NOTHING;`,
    ),
  );
  return [...views, ...uniques];
}

/** After row-level security is on: each chosen view reads with the caller's rights, so the policies apply through it. */
export function viewSecurity(m: MigrationModel): string[] {
  return m.views.map((v) =>
    named(
      'switch the view to security_invoker (the policies apply through it)',
      displayName(v.name),
      doBlock(`  IF NOT ${invokerIn(`(SELECT reloptions FROM pg_class WHERE oid = ${regclassOf(v.name)})`)} THEN
    ALTER VIEW ${qq(v.name)} SET (security_invoker = true);
  END IF;`),
    ),
  );
}

/**
 * Each chosen unique: the per-org index built CONCURRENTLY (an invalid one left by an interrupted build is dropped
 * first), then in one short transaction the global one swapped out: a constraint is dropped and the per-org index
 * becomes its replacement constraint (same deferrability), a plain index is dropped. The org column is NOT NULL by now.
 */
export function perOrgUniques(m: MigrationModel, t: TableModel): string[] {
  return m.uniques
    .filter((u) => sameTable(u.table, t.name))
    .flatMap((u) => {
      const perOrg = qq({ schema: u.index.schema, name: u.perOrgName });
      const deferrable = u.constraint?.deferrable
        ? ` DEFERRABLE${u.constraint.deferred ? ' INITIALLY DEFERRED' : ''}`
        : '';
      const swap = u.constraint
        ? `ALTER TABLE ${qq(u.table)} DROP CONSTRAINT ${qi(u.index.name)}, ADD CONSTRAINT ${qi(u.perOrgName)} UNIQUE USING INDEX ${qi(u.perOrgName)}${deferrable};`
        : `DROP INDEX ${qq(u.index)};`;
      return [
        named(
          'drop an invalid per-org index left by an interrupted build',
          displayName(u.table),
          doBlock(`  IF EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass(${ql(perOrg)}) AND NOT indisvalid) THEN
    DROP INDEX ${perOrg};
  END IF;`),
        ),
        ...patiently(
          m,
          named(`build the per-org unique index ${u.perOrgName} CONCURRENTLY`, displayName(u.table), u.perOrgIndex),
        ),
        named(
          `swap the global ${u.constraint ? 'UNIQUE constraint' : 'unique index'} ${u.index.name} for the per-org one (short lock)`,
          displayName(u.table),
          doBlock(`  IF NOT EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass(${ql(perOrg)}) AND indisvalid) THEN
    RAISE EXCEPTION 'tenant-migration: the per-org index % was not built (a value repeats within an org, or an interrupted build)', ${ql(perOrg)}
      USING HINT = 'Run again; if it fails again, find the rows of one org that share the value and change them.';
  END IF;
  IF ${stillGlobal(m, u)} THEN
    ${swap}
  END IF;`),
        ),
      ];
    });
}
