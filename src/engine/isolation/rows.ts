// The probe rows: one per org for every table the matrix probes, written by the tool itself (parents first: two
// probe orgs, the rows the tenant tables reference, then the tenant tables), so that a cell is proven whatever the
// data. A plan is SQL text; the live probe runs it inside its savepoint, the exported pgTAP files run it inside their
// own transaction. Writing fires the table's triggers; identity and serial columns get values of their own, so their
// sequences are not advanced (a sequence the table's triggers use still is: nextval is not undone by a
// rollback); unique values are made fresh (random) so they do not collide with the table's rows.
import { SQLSTATE, sqlStateOf } from '../db/pg-errors';
import type { Session } from '../db/session';
import { displayName, quoteIdent as qi, quoteLiteral as ql, quoteQualified as qq } from '../db/sql';
import { freshValue, type FreshColumn } from './fresh-values';

type Resolved = { schema: string; name: string };
export type Side = 'a' | 'b';

/** A probe row's column, in SQL: live a literal of the row read back, exported a read of the row's setting. */
export type RefSql = (tag: string, side: Side, column: string, type: string) => string;

export type Value = { kind: 'sql'; sql: string } | { kind: 'ref'; tag: string; column: string };

export interface PlannedColumn {
  readonly name: string;
  readonly type: string;
  readonly value: Value;
}

export interface TablePlan {
  /** r0, r1, …: names the row in settings and savepoints, whatever the table is called. */
  readonly tag: string;
  readonly table: Resolved;
  readonly label: string;
  /** Set for the tenant tables (their org column), unset for orgs and the other tables they reference. */
  readonly orgColumn?: string;
  readonly columns: PlannedColumn[];
  /** The columns that name one row: the primary key, or every column written. */
  readonly keyColumns: { name: string; type: string; nullable: boolean }[];
  readonly allColumns: { name: string; type: string; generated: boolean; identity: string }[];
  /** Why no row can be written (then every cell on the table is unproven, for that reason). */
  readonly problem?: string;
  /** The NOT NULL column without a default no value could be made for. */
  readonly unwritable?: { readonly column: string; readonly type: string };
  /** A deferrable unique or exclusion constraint: ON CONFLICT cannot take it as an arbiter (it is checked at commit). */
  readonly deferrableUnique: boolean;
}

interface ColumnMeta extends FreshColumn {
  notNull: boolean;
  hasDefault: boolean;
  sequenceDefault: boolean;
  identity: string;
  generated: boolean;
}
interface ForeignKey {
  columns: string[];
  table: Resolved;
  refColumns: string[];
}

async function catalog(
  session: Session,
  table: Resolved,
): Promise<
  { columns: ColumnMeta[]; primaryKey: string[]; foreignKeys: ForeignKey[]; deferrableUnique: boolean } | undefined
> {
  const oid = (await session.query<{ oid: number | null }>(`SELECT to_regclass($1)::oid::int AS oid`, [qq(table)]))
    .rows[0]?.oid;
  if (!oid) return undefined;
  const columns = (
    await session.query<ColumnMeta>(
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull OR t.typnotnull AS "notNull", a.atthasdef AS "hasDefault",
            format_type(bt.oid, CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END) AS "baseType",
            EXISTS (SELECT 1 FROM pg_constraint k WHERE k.contypid = t.oid AND k.contype = 'c') AS "domainCheck",
            coalesce((SELECT pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%' FROM pg_attrdef d WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum), false) AS "sequenceDefault",
            a.attidentity::text AS identity, a.attgenerated <> '' AS generated, bt.typtype::text AS typtype, bt.typcategory::text AS category,
            (SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = bt.oid ORDER BY e.enumsortorder LIMIT 1) AS "firstLabel"
       FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
       JOIN pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
      WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
      [oid],
    )
  ).rows;
  const primaryKey = (
    await session.query<{ name: string }>(
      `SELECT a.attname AS name FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum WHERE i.indrelid = $1 AND i.indisprimary ORDER BY k.ord`,
      [oid],
    )
  ).rows.map((r) => r.name);
  const foreignKeys = (
    await session.query<{ columns: string[]; schema: string; name: string; refcolumns: string[] }>(
      `SELECT ARRAY(SELECT attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, o) JOIN pg_attribute ON attrelid = c.conrelid AND attnum = k.n ORDER BY o) AS columns,
            rn.nspname AS schema, rc.relname AS name,
            ARRAY(SELECT attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, o) JOIN pg_attribute ON attrelid = c.confrelid AND attnum = k.n ORDER BY o) AS refcolumns
       FROM pg_constraint c JOIN pg_class rc ON rc.oid = c.confrelid JOIN pg_namespace rn ON rn.oid = rc.relnamespace
      WHERE c.conrelid = $1 AND c.contype = 'f' ORDER BY c.conname`,
      [oid],
    )
  ).rows;
  const deferrableUnique = (
    await session.query<{ ok: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = $1 AND contype IN ('u', 'p', 'x') AND condeferrable) AS ok`,
      [oid],
    )
  ).rows[0]!.ok;
  return {
    columns,
    primaryKey,
    deferrableUnique,
    foreignKeys: foreignKeys.map((f) => ({
      columns: f.columns,
      table: { schema: f.schema, name: f.name },
      refColumns: f.refcolumns,
    })),
  };
}

export interface PlanInput {
  readonly orgs: { name: Resolved; idColumn: string };
  /** The tenant tables, parents first, each with its org column. */
  readonly tenants: { name: Resolved; orgColumn: string }[];
}

/** Plans every probe row: orgs first, then what each tenant table references, then the tenant table. */
export async function planProbeRows(
  session: Session,
  input: PlanInput,
): Promise<{ plans: TablePlan[]; orgsTag: string }> {
  const plans: TablePlan[] = [];
  const byTable = new Map<string, TablePlan | 'planning'>();
  const keyOf = (t: Resolved) => `${t.schema}.${t.name}`;
  const tenantColumn = new Map(input.tenants.map((t) => [keyOf(t.name), t.orgColumn]));
  const plan = async (table: Resolved): Promise<TablePlan | undefined> => {
    const known = byTable.get(keyOf(table));
    if (known) return known === 'planning' ? undefined : known;
    byTable.set(keyOf(table), 'planning');
    const meta = await catalog(session, table);
    const orgColumn = tenantColumn.get(keyOf(table));
    const columns: PlannedColumn[] = [];
    let problem = meta ? undefined : `${displayName(table)} does not exist`;
    let unwritable: TablePlan['unwritable'];
    const byColumn = new Map<string, Value>();
    if (orgColumn) byColumn.set(orgColumn, { kind: 'ref', tag: 'r0', column: input.orgs.idColumn });
    for (const fk of meta?.foreignKeys ?? []) {
      if (fk.columns.every((c) => byColumn.has(c))) continue;
      const parent = await plan(fk.table);
      const nullable = fk.columns.every((c) => !meta!.columns.find((m) => m.name === c)!.notNull);
      if (!parent || parent.problem) {
        if (!nullable)
          problem ??= `no probe row can be written to ${displayName(fk.table)}, which ${displayName(table)} references${parent?.problem ? ` (${parent.problem})` : ' in a cycle'}`;
        continue;
      }
      fk.columns.forEach((c, i) => {
        if (!byColumn.has(c)) byColumn.set(c, { kind: 'ref', tag: parent.tag, column: fk.refColumns[i]! });
      });
    }
    for (const c of meta?.columns ?? []) {
      if (c.generated) continue;
      const fixed = byColumn.get(c.name);
      if (fixed) {
        columns.push({ name: c.name, type: c.type, value: fixed });
        continue;
      }
      // A sequence's value is not given back by the rollback (nextval is not transactional): identity and serial
      // columns get a fresh value of their own instead (OVERRIDING SYSTEM VALUE), so the probe uses up no id.
      const fromSequence = c.identity !== '' || c.sequenceDefault;
      if (!fromSequence && (c.hasDefault || !c.notNull)) continue; // the default, or NULL
      const fresh = await freshValue(session, c);
      if (fresh) columns.push({ name: c.name, type: c.type, value: { kind: 'sql', sql: fresh } });
      else {
        problem ??= `no value can be made for ${displayName(table)}.${c.name} (${c.type}${c.domainCheck ? `, a domain whose CHECK refused every value tried` : ''}, NOT NULL, no default)`;
        unwritable ??= { column: c.name, type: c.type };
      }
    }
    const comparable = (c: ColumnMeta) =>
      !c.generated && !/^(json|xml|point|polygon|line|box|circle|path)\b/.test(c.type);
    const key =
      meta && meta.primaryKey.length > 0
        ? meta.primaryKey
        : (meta?.columns ?? []).filter(comparable).map((c) => c.name);
    const typeOf = (name: string) => meta?.columns.find((c) => c.name === name)?.type ?? 'text';
    const done: TablePlan = {
      tag: `r${plans.length}`,
      table,
      label: displayName(table),
      orgColumn,
      columns,
      problem,
      unwritable,
      deferrableUnique: meta?.deferrableUnique ?? false,
      keyColumns: key.map((name) => ({
        name,
        type: typeOf(name),
        nullable: !meta?.columns.find((c) => c.name === name)?.notNull,
      })),
      allColumns: (meta?.columns ?? []).map((c) => ({
        name: c.name,
        type: c.type,
        generated: c.generated,
        identity: c.identity,
      })),
    };
    plans.push(done);
    byTable.set(keyOf(table), done);
    return done;
  };
  await plan(input.orgs.name);
  for (const t of input.tenants) await plan(t.name);
  return { plans, orgsTag: 'r0' };
}

export function valueSql(c: PlannedColumn, side: Side, ref: RefSql): string {
  return c.value.kind === 'sql' ? c.value.sql : ref(c.value.tag, side, c.value.column, c.type);
}

/** The INSERT that writes the plan's row for one org; its row comes back as JSON of text values. */
export function insertSql(p: TablePlan, side: Side, ref: RefSql, returning = true): string {
  const target = `${qq(p.table)} AS probe_row`;
  const body =
    p.columns.length === 0
      ? `INSERT INTO ${target} DEFAULT VALUES`
      : `INSERT INTO ${target} (${p.columns.map((c) => qi(c.name)).join(', ')}) OVERRIDING SYSTEM VALUE VALUES (${p.columns.map((c) => valueSql(c, side, ref)).join(', ')})`;
  return returning ? `${body} RETURNING ${rowAsText('probe_row')}` : body;
}

/** A row as a JSON object of text values (bigints stay exact; timestamps keep their own text form). */
export const rowText = (alias: string) =>
  `(SELECT jsonb_object_agg(key, value #>> '{}') FROM jsonb_each(to_jsonb(${alias}.*)))::text`;
export const rowAsText = (alias: string) => `${rowText(alias)} AS row`;

/** The predicate that names the side's probe row. */
export function keyPredicate(p: TablePlan, side: Side, ref: RefSql): string {
  return p.keyColumns
    .map((k) => `${qi(k.name)} ${k.nullable ? 'IS NOT DISTINCT FROM' : '='} ${ref(p.tag, side, k.name, k.type)}`)
    .join(' AND ');
}

/** A column an UPDATE may set to itself (a change that changes nothing but must pass the policies). */
export function updatableColumn(p: TablePlan): string {
  const keys = new Set(p.keyColumns.map((k) => k.name));
  return (
    p.allColumns.find((c) => !c.generated && !c.identity && !keys.has(c.name))?.name ??
    p.orgColumn ??
    p.keyColumns[0]!.name
  );
}

export type BuiltRows = Map<string, Record<string, string | null>>;
export const rowKey = (tag: string, side: Side) => `${tag}_${side}`;

/** Live: the literal of a built row's column. */
export const literalRef =
  (rows: BuiltRows): RefSql =>
  (tag, side, column, type) => {
    const value = rows.get(rowKey(tag, side))?.[column];
    return value === undefined || value === null ? `NULL::${type}` : `${ql(value)}::${type}`;
  };

/**
 * Writes both orgs' rows of every plan inside the caller's transaction, each in its own savepoint so a row that
 * cannot be written is named (with the database's reason) instead of aborting the probe. `asOrg` puts the row's
 * org in the tenant context first, so that an owner subject to FORCE ROW LEVEL SECURITY may write it too.
 */
export async function writeProbeRows(
  session: Session,
  plans: TablePlan[],
  orgIdColumn: string,
  asOrg: (org: string | null) => string,
): Promise<{ rows: BuiltRows; problems: Map<string, string> }> {
  const rows: BuiltRows = new Map();
  const problems = new Map<string, string>();
  for (const p of plans) {
    const parentProblem = p.columns
      .map((c) => (c.value.kind === 'ref' ? problems.get(c.value.tag) : undefined))
      .find(Boolean);
    if (p.problem || parentProblem) {
      problems.set(p.tag, p.problem ?? parentProblem!);
      continue;
    }
    for (const side of ['a', 'b'] as Side[]) {
      const org = p.orgColumn ? (rows.get(rowKey('r0', side))?.[orgIdColumn] ?? null) : null;
      const built = await writeOne(session, p, side, literalRef(rows), asOrg(org));
      if ('error' in built) {
        problems.set(p.tag, `no probe row could be written to ${p.label}: ${built.error}`);
        break;
      }
      rows.set(rowKey(p.tag, side), built.row);
    }
  }
  return { rows, problems };
}

async function writeOne(
  session: Session,
  p: TablePlan,
  side: Side,
  ref: RefSql,
  contextSql: string,
): Promise<{ row: Record<string, string | null> } | { error: string }> {
  let lastError = '';
  // A unique value may collide (random values, or a trigger that already wrote the row: then that row is adopted).
  for (let attempt = 0; attempt < 3; attempt++) {
    await session.query(`SAVEPOINT ${p.tag}_${side}`);
    try {
      await session.query(contextSql);
      const { rows } = await session.query<{ row: string }>(insertSql(p, side, ref));
      await session.query(`RELEASE SAVEPOINT ${p.tag}_${side}`);
      return { row: JSON.parse(rows[0]!.row) as Record<string, string | null> };
    } catch (e) {
      await session.query(`ROLLBACK TO SAVEPOINT ${p.tag}_${side}`);
      lastError = e instanceof Error ? e.message : String(e);
      if (sqlStateOf(e) !== SQLSTATE.uniqueViolation) break;
      const adopted = await adopt(session, p, side, ref);
      if (adopted) return { row: adopted };
    }
  }
  return { error: lastError };
}

/** The row a trigger wrote already for the same parents (the ledger row a credential's trigger writes, say). */
async function adopt(
  session: Session,
  p: TablePlan,
  side: Side,
  ref: RefSql,
): Promise<Record<string, string | null> | undefined> {
  const refs = p.columns.filter((c) => c.value.kind === 'ref');
  if (refs.length === 0) return undefined;
  const where = refs.map((c) => `${qi(c.name)} = ${valueSql(c, side, ref)}`).join(' AND ');
  const { rows } = await session.query<{ row: string }>(
    `SELECT ${rowAsText('probe_row')} FROM ${qq(p.table)} AS probe_row WHERE ${where} LIMIT 1`,
  );
  return rows[0] ? (JSON.parse(rows[0].row) as Record<string, string | null>) : undefined;
}
