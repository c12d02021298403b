// Objects of the user's that already have the names the migration gives its foreign key, NOT NULL check and index.
// The script creates each only when its name is free, so such an object would be taken as the migration's own.
// One that does the same job (the org key, validated; a whole valid btree index led by the org column) is used and
// kept: the snapshot records it, the migration never validates or drops it, rollback leaves it exactly as it was.
// Any other (NOT VALID, another definition, on another table) refuses the run, naming it. So do a ledger table and an
// auth hook function of the user's under the spec's names (rollback would drop the one; the script would replace the other).
import { displayName, quoteIdent as qi, quoteQualified as qq, type QualifiedName } from '../db/sql';
import { HOOK_SCHEMA, names } from '../names';
import type { MigrationModel, TableModel } from '../model';
import { heapTablesOf } from '../script/sections/partitions';
import type { ShapeDetector, ShapeFinding } from './finding';
import { snapshotted } from './org-column';

type Resolved = Required<QualifiedName>;
type Session = Parameters<ShapeDetector>[0];

interface SameNamedConstraint {
  conname: string;
  def: string;
  convalidated: boolean;
  org_key: boolean;
  org_not_null: boolean;
}

async function sameNamedConstraints(
  session: Session,
  m: MigrationModel,
  table: Resolved,
): Promise<SameNamedConstraint[]> {
  const { rows } = await session.query<SameNamedConstraint>(
    `SELECT con.conname, pg_get_constraintdef(con.oid) AS def, con.convalidated,
            coalesce(con.contype = 'f' AND con.conkey = ARRAY[org.attnum] AND con.confrelid = $3::regclass
              AND con.confkey = ARRAY[(SELECT attnum FROM pg_attribute WHERE attrelid = $3::regclass AND attname = $4)], false) AS org_key,
            coalesce(org.attnotnull, false) AS org_not_null
       FROM pg_constraint con LEFT JOIN pg_attribute org ON org.attrelid = con.conrelid AND org.attname = $2 AND NOT org.attisdropped
      WHERE con.conrelid = $1::regclass AND con.conname = ANY ($5::text[])`,
    [
      qq(table),
      m.orgColumn,
      qq(m.orgs.name),
      m.orgs.idColumn,
      [names.foreignKey(table, m.orgColumn), names.notNullCheck(table, m.orgColumn)],
    ],
  );
  return rows;
}

interface SameNamedIndex {
  def: string | null;
  usable: boolean;
}

async function sameNamedIndex(
  session: Session,
  m: MigrationModel,
  table: Resolved,
): Promise<SameNamedIndex | undefined> {
  const { rows } = await session.query<SameNamedIndex>(
    `SELECT pg_get_indexdef(r.oid) AS def,
            coalesce(i.indrelid = $2::regclass AND i.indisvalid AND i.indpred IS NULL AND am.amname = 'btree'
              AND i.indkey[0] = (SELECT attnum FROM pg_attribute WHERE attrelid = $2::regclass AND attname = $3 AND NOT attisdropped), false) AS usable
       FROM pg_class r LEFT JOIN pg_index i ON i.indexrelid = r.oid LEFT JOIN pg_am am ON am.oid = r.relam
      WHERE r.oid = to_regclass($1)`,
    [qq({ schema: table.schema, name: names.index(table, m.orgColumn) }), qq(table), m.orgColumn],
  );
  return rows[0];
}

async function findingsOn(
  session: Session,
  m: MigrationModel,
  t: TableModel,
  table: Resolved,
): Promise<ShapeFinding[]> {
  const findings: ShapeFinding[] = [];
  const shown = displayName(table);
  const at = (name: string) => `${shown}.${name}`;
  for (const c of await sameNamedConstraints(session, m, table)) {
    const isKey = c.conname === names.foreignKey(table, m.orgColumn);
    if (isKey && c.org_key && c.convalidated) {
      findings.push({
        kind: 'same-named-object',
        table: displayName(t.name),
        object: at(c.conname),
        blocking: false,
        message: `${shown} already has ${c.conname} (${c.def}): the migration uses it as the org foreign key and keeps it as it is; rollback leaves it`,
      });
    } else if (!isKey && c.org_not_null) {
      findings.push({
        kind: 'same-named-object',
        table: displayName(t.name),
        object: at(c.conname),
        blocking: false,
        message: `${shown} already has ${c.conname} (${c.def}) and ${m.orgColumn} is NOT NULL: the migration leaves it as it is; rollback leaves it`,
      });
    } else {
      findings.push({
        kind: 'same-named-object',
        table: displayName(t.name),
        object: at(c.conname),
        blocking: true,
        message: `${shown} already has a constraint named ${c.conname} (${c.def}${c.convalidated ? '' : ', NOT VALID'}) that is not the ${isKey ? `org foreign key the migration adds (FOREIGN KEY (${m.orgColumn}) REFERENCES ${displayName(m.orgs.name)} (${m.orgs.idColumn}), validated)` : 'NOT NULL check the migration adds'}: the migration would take it as its own${c.convalidated ? '' : ' and validate it'}`,
        fix: `Rename it (ALTER TABLE ${qq(table)} RENAME CONSTRAINT ${qi(c.conname)} TO ${qi(`${c.conname}_own`)};)${isKey && c.org_key ? `, or validate it yourself (ALTER TABLE ${qq(table)} VALIDATE CONSTRAINT ${qi(c.conname)};)` : ''}.`,
      });
    }
  }
  const index = await sameNamedIndex(session, m, table);
  const indexName = names.index(table, m.orgColumn);
  if (index?.usable) {
    findings.push({
      kind: 'same-named-object',
      table: displayName(t.name),
      object: `${table.schema}.${indexName}`,
      blocking: false,
      message: `${shown} already has the index ${indexName} (${index.def}): the migration uses it as the org index and keeps it; rollback leaves it`,
    });
  } else if (index) {
    findings.push({
      kind: 'same-named-object',
      table: displayName(t.name),
      object: `${table.schema}.${indexName}`,
      blocking: true,
      message: `${table.schema}.${indexName} already exists (${index.def ?? 'not an index'}) and is not a valid whole btree index of ${shown} led by ${m.orgColumn}: the migration would take it as its org index`,
      fix: `Rename it (ALTER ${index.def ? 'INDEX' : 'TABLE'} ${qq({ schema: table.schema, name: indexName })} RENAME TO ${qi(`${indexName}_own`)};).`,
    });
  }
  return findings;
}

/**
 * Before the migration starts: a ledger table of the spec's name is the user's (rollback would drop it), and a
 * function of the auth hook's name that is not a hook this tool generated would be replaced by the generated one.
 */
async function sameNamedGlobals(session: Session, m: MigrationModel): Promise<ShapeFinding[]> {
  const findings: ShapeFinding[] = [];
  if (m.ledger?.exists) {
    const ledger = displayName(m.ledger.name);
    findings.push({
      kind: 'same-named-object',
      table: displayName(m.ledger.from.name),
      object: ledger,
      blocking: true,
      message: `${ledger} (tenantCredentials.table) exists before the migration: the migration would take it as its ledger, and rollback would drop it`,
      fix: `Name another table in tenantCredentials.table, or rename ${ledger} (ALTER TABLE ${qq(m.ledger.name)} RENAME TO ${qi(`${m.ledger.name.name}_own`)};).`,
    });
  }
  if (m.authHook) {
    const fn = `${qq(m.authHook.function)}(jsonb)`;
    const { rows } = await session.query<{ ours: boolean }>(
      `SELECT prosrc LIKE $2 AS ours FROM pg_proc WHERE oid = to_regprocedure($1)`,
      [fn, `%${HOOK_SCHEMA}%`],
    );
    if (rows[0] && !rows[0].ours) {
      findings.push({
        kind: 'same-named-object',
        table: displayName(m.tables[0]!.name),
        object: fn,
        blocking: true,
        message: `the function ${fn} (authHook.function) exists and is not a hook this tool generated: the migration would replace it`,
        fix: `Name another function in authHook.function (and switch Supabase's hook to it), or rename yours (ALTER FUNCTION ${fn} RENAME TO ${qi(`${m.authHook.function.name}_own`)};).`,
      });
    }
  }
  return findings;
}

export const sameNamedObjects: ShapeDetector = async (session, model) => {
  const started = await snapshotted(session);
  const findings: ShapeFinding[] = started.size === 0 ? await sameNamedGlobals(session, model) : [];
  for (const t of model.tables) {
    if (started.has(`${t.name.schema}.${t.name.name}`)) continue;
    const targets = t.info.partitionTree ? [t.name, ...heapTablesOf(t)] : [t.name];
    for (const table of targets) findings.push(...(await findingsOn(session, model, t, table)));
  }
  return findings;
};
