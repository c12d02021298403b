// Statements that hold a strong lock on a table the application uses for as long as they scan or rewrite it.
import { cmdsOf, columnDefOf, constraintOf, relName, typeNameOf, type ColumnDefNode } from '../ast';
import type { LintStatement } from '../context';
import type { Node } from '../types';
import { insertAt, replaceIn, type Rule } from './rule';

const ACCESS_EXCLUSIVE = 'ACCESS EXCLUSIVE lock (blocks reads and writes)';

/** Functions a column default may call without a rewrite on PostgreSQL 11+ (immutable or stable ones). */
const NON_VOLATILE = new Set([
  'now',
  'statement_timestamp',
  'transaction_timestamp',
  'current_timestamp',
  'current_date',
  'lower',
  'upper',
  'coalesce',
  'nullif',
  'to_jsonb',
  'jsonb_build_object',
  'json_build_object',
  'array',
  'make_interval',
  'to_timestamp',
  'timezone',
  'current_setting',
  'current_user',
  'session_user',
  'length',
  'concat',
  'trim',
  'btrim',
  'abs',
  'round',
  'greatest',
  'least',
]);

/** The first function in a default expression that is (or may be) volatile, or a generated stored column. */
function volatileIn(node: unknown): string | undefined {
  if (Array.isArray(node)) {
    for (const n of node) {
      const v = volatileIn(n);
      if (v) return v;
    }
    return undefined;
  }
  if (!node || typeof node !== 'object') return undefined;
  for (const [key, value] of Object.entries(node as Node)) {
    if (key === 'FuncCall') {
      const name = (((value as Node).funcname as unknown[]) ?? [])
        .map((n) => (n as { String?: { sval?: string } }).String?.sval)
        .filter((n) => n !== 'pg_catalog')
        .join('.');
      if (!NON_VOLATILE.has(name)) return `${name}()`;
    }
    const v = volatileIn(value);
    if (v) return v;
  }
  return undefined;
}

const defaultOf = (c: ColumnDefNode): Node | undefined =>
  c.raw_default ?? c.constraints?.map(constraintOf).find((k) => k?.contype === 'CONSTR_DEFAULT')?.raw_expr;

const addedColumns = (s: LintStatement) =>
  cmdsOf(s.node)
    .filter((c) => c.subtype === 'AT_AddColumn')
    .map((c) => columnDefOf(c.def))
    .filter((c): c is ColumnDefNode => !!c);

export const volatileDefault: Rule = {
  id: 'volatile-default',
  squawk: 'adding-field-with-default',
  severity: 'warning',
  on: ['AlterTableStmt'],
  summary: 'A column added with a volatile default (or a generated stored column) rewrites the table.',
  lock: `rewrites the whole table under an ${ACCESS_EXCLUSIVE}`,
  safe: 'add the column without a default (or with a constant one), set the default with ALTER COLUMN … SET DEFAULT, and backfill existing rows in batches',
  check(s, ctx, report) {
    const table = relName(s.node.relation);
    if (!ctx.isBusy(table)) return;
    for (const column of addedColumns(s)) {
      const generated = column.constraints?.map(constraintOf).some((k) => k?.contype === 'CONSTR_GENERATED');
      const value = defaultOf(column);
      const culprit = generated
        ? 'a generated stored column'
        : value &&
          (ctx.postgresVersion < 11
            ? 'a default (before PostgreSQL 11)'
            : volatileIn(value) && `the volatile default ${volatileIn(value)}`);
      if (culprit) report(this, s, `ADD COLUMN ${column.colname} on ${table} with ${culprit}`);
    }
  },
};

export const columnTypeChange: Rule = {
  id: 'column-type-change',
  squawk: 'changing-column-type',
  severity: 'warning',
  on: ['AlterTableStmt'],
  summary: "Changing a column's type rewrites the table and its indexes.",
  lock: `rewrites the table and rebuilds its indexes under an ${ACCESS_EXCLUSIVE}, unless the change is binary-coercible (varchar to text, a longer varchar)`,
  safe: 'add a new column of the new type, backfill it in batches, switch the application over, then drop the old column',
  check(s, ctx, report) {
    const table = relName(s.node.relation);
    if (!ctx.isBusy(table)) return;
    for (const cmd of cmdsOf(s.node))
      if (cmd.subtype === 'AT_AlterColumnType') report(this, s, `ALTER COLUMN ${cmd.name} TYPE on ${table}`);
  },
};

export const serialPrimaryKey: Rule = {
  id: 'serial-primary-key',
  squawk: 'adding-serial-primary-key-field',
  severity: 'warning',
  on: ['AlterTableStmt'],
  summary: 'A serial or identity column, or a primary key without USING INDEX, added to an existing table.',
  lock: `fills or indexes every row under an ${ACCESS_EXCLUSIVE}`,
  safe: 'add a nullable column, backfill it in batches, CREATE UNIQUE INDEX CONCURRENTLY on it, then ADD CONSTRAINT … PRIMARY KEY USING INDEX',
  check(s, ctx, report) {
    const table = relName(s.node.relation);
    if (!ctx.isBusy(table)) return;
    for (const column of addedColumns(s)) {
      const serial = /^(small|big)?serial[248]?$/.test(typeNameOf(column));
      const identity = column.constraints?.map(constraintOf).some((k) => k?.contype === 'CONSTR_IDENTITY');
      if (serial || identity)
        report(
          this,
          s,
          `ADD COLUMN ${column.colname} ${serial ? typeNameOf(column) : 'GENERATED … AS IDENTITY'} on ${table}`,
        );
    }
    for (const cmd of cmdsOf(s.node)) {
      const k = constraintOf(cmd.def);
      if (cmd.subtype === 'AT_AddConstraint' && k?.contype === 'CONSTR_PRIMARY' && !k.indexname)
        report(this, s, `ADD PRIMARY KEY on ${table} without USING INDEX`);
    }
  },
};

export const requiredColumn: Rule = {
  id: 'required-column',
  squawk: 'adding-required-field',
  severity: 'warning',
  on: ['AlterTableStmt'],
  summary: 'A NOT NULL column without a default fails on a table with rows.',
  lock: "fails as soon as the table has a row (and the application's inserts fail once it exists)",
  safe: 'add it nullable or with a default, backfill, then add the NOT NULL through a validated CHECK',
  check(s, ctx, report) {
    const table = relName(s.node.relation);
    if (ctx.isNew(table)) return;
    for (const column of addedColumns(s)) {
      const kinds = column.constraints?.map((k) => constraintOf(k)?.contype) ?? [];
      if (
        kinds.includes('CONSTR_NOTNULL') &&
        !defaultOf(column) &&
        !kinds.includes('CONSTR_GENERATED') &&
        !kinds.includes('CONSTR_IDENTITY')
      ) {
        report(this, s, `ADD COLUMN ${column.colname} NOT NULL without a default on ${table}`);
      }
    }
  },
};

export const setNotNull: Rule = {
  id: 'set-not-null',
  squawk: 'adding-not-nullable-field',
  severity: 'warning',
  on: ['AlterTableStmt'],
  summary: 'SET NOT NULL scans the table unless a validated CHECK (col IS NOT NULL) proves it.',
  lock: `scans the whole table under an ${ACCESS_EXCLUSIVE}`,
  safe: 'add CHECK (col IS NOT NULL) NOT VALID, VALIDATE it (no write lock), then SET NOT NULL (no scan on PostgreSQL 12+) and drop the CHECK',
  check(s, ctx, report) {
    const table = relName(s.node.relation);
    if (!table || !ctx.isBusy(table)) return;
    const cmds = cmdsOf(s.node);
    for (const cmd of cmds) {
      const column = cmd.name;
      if (cmd.subtype !== 'AT_SetNotNull' || !column) continue;
      if (
        ctx.postgresVersion >= 12 &&
        (ctx.notNullValidated(table, column) || ctx.leavesProve(table, (leaf) => ctx.notNullValidated(leaf, column)))
      )
        continue;
      const check = `${table.split('.').pop()}_${cmd.name}_not_null`.slice(0, 63);
      const alter = s.text.match(/^ALTER\s+TABLE\s+(ONLY\s+)?(IF\s+EXISTS\s+)?\S+/i)?.[0];
      const fix =
        cmds.length === 1 && alter && ctx.postgresVersion >= 12 && !ctx.inTransaction(s)
          ? {
              title: 'Prove it with a validated CHECK first',
              start: s.start,
              end: s.end,
              text: `${alter} DROP CONSTRAINT IF EXISTS ${check};\n${alter} ADD CONSTRAINT ${check} CHECK (${cmd.name} IS NOT NULL) NOT VALID;\n${alter} VALIDATE CONSTRAINT ${check};\n${s.text};\n${alter} DROP CONSTRAINT IF EXISTS ${check}`,
            }
          : undefined;
      report(this, s, `SET NOT NULL on ${table}.${cmd.name}`, fix);
    }
  },
};

const isPartitionedTarget = (s: LintStatement, ctx: { isPartitioned(t?: string): boolean }) =>
  ctx.isPartitioned(relName(s.node.relation));

export const indexConcurrently: Rule = {
  id: 'index-concurrently',
  squawk: 'require-concurrent-index-creation',
  severity: 'warning',
  on: ['IndexStmt'],
  summary: 'CREATE INDEX without CONCURRENTLY blocks writes for the whole build.',
  lock: 'holds a SHARE lock (blocks every write) for the whole build',
  safe: 'CREATE INDEX CONCURRENTLY, outside a transaction (on a partitioned table: CREATE INDEX ON ONLY the parent, CONCURRENTLY on each partition, then ALTER INDEX … ATTACH PARTITION)',
  check(s, ctx, report) {
    const table = relName(s.node.relation);
    const onOnly = (s.node.relation as { inh?: boolean } | undefined)?.inh !== true;
    if (s.node.concurrent || onOnly || !ctx.isBusy(table)) return;
    const fix =
      ctx.inTransaction(s) || isPartitionedTarget(s, ctx)
        ? undefined
        : replaceIn(s, /\bINDEX\b/i, 'Build it CONCURRENTLY', () => 'INDEX CONCURRENTLY');
    report(this, s, `CREATE INDEX on ${table}${isPartitionedTarget(s, ctx) ? ' (partitioned)' : ''}`, fix);
  },
};

export const dropIndexConcurrently: Rule = {
  id: 'drop-index-concurrently',
  squawk: 'require-concurrent-index-deletion',
  severity: 'warning',
  on: ['DropStmt'],
  summary: 'DROP INDEX without CONCURRENTLY locks the table.',
  lock: `takes an ${ACCESS_EXCLUSIVE} on the index's table`,
  safe: 'DROP INDEX CONCURRENTLY, outside a transaction, one index per statement (a partitioned index has no concurrent drop: drop it in a quiet moment)',
  check(s, ctx, report) {
    if (s.node.removeType !== 'OBJECT_INDEX' || s.node.concurrent) return;
    // An index the block has just found invalid serves no query and drops at once; the lock_timeout bounds the wait.
    if (s.guardCondition && /\bNOT\s+indisvalid\b/i.test(s.guardCondition) && ctx.lockTimeoutSet) return;
    const single = ((s.node.objects as unknown[]) ?? []).length === 1;
    const fix =
      single && !ctx.inTransaction(s)
        ? replaceIn(s, /^DROP\s+INDEX\b/i, 'Drop it CONCURRENTLY', () => 'DROP INDEX CONCURRENTLY')
        : undefined;
    report(this, s, 'DROP INDEX', fix);
  },
};

export const reindexConcurrently: Rule = {
  id: 'reindex-concurrently',
  squawk: 'require-concurrent-reindex',
  severity: 'warning',
  on: ['ReindexStmt'],
  summary: 'REINDEX without CONCURRENTLY blocks writes (and reads that use the index).',
  lock: 'locks out writes to the table, and reads through the index, for the whole rebuild',
  safe: 'REINDEX … CONCURRENTLY (PostgreSQL 12+), outside a transaction',
  check(s, ctx, report) {
    const options = ((s.node.params as Node[] | undefined) ?? []).map(
      (p) => (p.DefElem as { defname?: string } | undefined)?.defname,
    );
    if (options.includes('concurrently') || ctx.postgresVersion < 12) return;
    const fix = ctx.inTransaction(s)
      ? undefined
      : replaceIn(
          s,
          /^REINDEX\s+(INDEX|TABLE|SCHEMA|DATABASE)\b/i,
          'Rebuild it CONCURRENTLY',
          (m) => `${m[0]} CONCURRENTLY`,
        );
    report(this, s, 'REINDEX', fix);
  },
};

export const detachConcurrently: Rule = {
  id: 'detach-partition-concurrently',
  squawk: 'require-concurrent-partition-detach',
  severity: 'warning',
  on: ['AlterTableStmt'],
  summary: 'DETACH PARTITION without CONCURRENTLY locks the parent table.',
  lock: `takes an ${ACCESS_EXCLUSIVE} on the partitioned table`,
  safe: 'ALTER TABLE … DETACH PARTITION … CONCURRENTLY (PostgreSQL 14+), outside a transaction',
  check(s, ctx, report) {
    if (ctx.postgresVersion < 14 || !ctx.isBusy(relName(s.node.relation))) return;
    const cmds = cmdsOf(s.node);
    for (const cmd of cmds) {
      const partition = (cmd.def as { PartitionCmd?: { concurrent?: boolean } } | undefined)?.PartitionCmd;
      if (cmd.subtype !== 'AT_DetachPartition' || partition?.concurrent) continue;
      const fix =
        cmds.length === 1 && !ctx.inTransaction(s) && !/\bFINALIZE\s*$/i.test(s.text)
          ? insertAt('Detach it CONCURRENTLY', s.end, ' CONCURRENTLY')
          : undefined;
      report(this, s, `DETACH PARTITION from ${relName(s.node.relation)}`, fix);
    }
  },
};

export const wholeTableWrite: Rule = {
  id: 'whole-table-write',
  severity: 'warning',
  on: ['UpdateStmt', 'DeleteStmt'],
  summary: 'An UPDATE or DELETE of every row in one statement.',
  lock: 'holds a row lock on every row until it commits',
  safe: 'batch it by key ranges, committing each batch',
  check(s, ctx, report) {
    const table = relName(s.node.relation);
    if (!s.node.whereClause && ctx.isBusy(table))
      report(this, s, `${s.type === 'UpdateStmt' ? 'UPDATE' : 'DELETE'} of all of ${table} in one statement`);
  },
};

export const LOCK_RULES: readonly Rule[] = [
  volatileDefault,
  columnTypeChange,
  serialPrimaryKey,
  requiredColumn,
  setNotNull,
  indexConcurrently,
  dropIndexConcurrently,
  reindexConcurrently,
  detachConcurrently,
  wholeTableWrite,
];
