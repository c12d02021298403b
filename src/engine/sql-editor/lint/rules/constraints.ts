// Constraints added to a table the application uses: validated while a lock blocks writes, or built as an index.
import { cmdsOf, columnDefOf, constraintOf, foreignKeyOf, names, relName, type ConstraintNode } from '../ast';
import type { LintContext, LintStatement } from '../context';
import { insertAt, qualified, ident, type Rule } from './rule';

const added = (s: LintStatement, contype: string): ConstraintNode[] =>
  cmdsOf(s.node)
    .filter((c) => c.subtype === 'AT_AddConstraint')
    .map((c) => constraintOf(c.def))
    .filter((k): k is ConstraintNode => k?.contype === contype);

const notValidFix = (s: LintStatement) =>
  cmdsOf(s.node).length === 1 ? insertAt('Add it NOT VALID', s.end, ' NOT VALID') : undefined;

export const checkNotValid: Rule = {
  id: 'check-not-valid',
  squawk: 'constraint-missing-not-valid',
  severity: 'warning',
  on: ['AlterTableStmt'],
  summary: 'A CHECK constraint added without NOT VALID is validated under a lock that blocks writes.',
  lock: 'scans the whole table under an ACCESS EXCLUSIVE lock',
  safe: 'add it NOT VALID, then ALTER TABLE … VALIDATE CONSTRAINT in a later transaction (SHARE UPDATE EXCLUSIVE: writes go on)',
  check(s, ctx, report) {
    const table = relName(s.node.relation);
    if (!ctx.isBusy(table)) return;
    for (const k of added(s, 'CONSTR_CHECK'))
      if (!k.skip_validation)
        report(this, s, `CHECK ${k.conname ?? ''} on ${table}`.replace('  ', ' '), notValidFix(s));
  },
};

export const foreignKeyNotValid: Rule = {
  id: 'foreign-key-not-valid',
  squawk: 'adding-foreign-key-constraint',
  severity: 'warning',
  on: ['AlterTableStmt'],
  summary:
    'A foreign key added without NOT VALID (or inline with ADD COLUMN … REFERENCES) is validated under a lock that blocks writes.',
  lock: 'validates every row under a SHARE ROW EXCLUSIVE lock on both tables (blocks writes)',
  safe: 'add the column first, then ADD CONSTRAINT … FOREIGN KEY … NOT VALID, then VALIDATE CONSTRAINT in a later transaction',
  check(s, ctx, report) {
    const table = relName(s.node.relation);
    if (!ctx.isBusy(table)) return;
    for (const k of added(s, 'CONSTR_FOREIGN')) {
      // On a partitioned table whose every leaf has the same key validated, the leaves' keys are attached, not checked.
      if (
        k.skip_validation ||
        (table && ctx.leavesProve(table, (leaf) => ctx.foreignKeyValidated(leaf, foreignKeyOf(k))))
      )
        continue;
      report(this, s, `FOREIGN KEY on ${table} to ${relName(k.pktable)}`, notValidFix(s));
    }
    for (const cmd of cmdsOf(s.node)) {
      const column = cmd.subtype === 'AT_AddColumn' ? columnDefOf(cmd.def) : undefined;
      const inline = column?.constraints?.map(constraintOf).find((k) => k?.contype === 'CONSTR_FOREIGN');
      if (inline) report(this, s, `ADD COLUMN ${column!.colname} … REFERENCES ${relName(inline.pktable)} on ${table}`);
    }
  },
};

export const validateInTransaction: Rule = {
  id: 'validate-in-same-transaction',
  squawk: 'constraint-missing-not-valid',
  severity: 'warning',
  on: ['AlterTableStmt'],
  summary: "NOT VALID then VALIDATE in one transaction keeps the ADD's lock through the validation.",
  lock: 'keeps the ACCESS EXCLUSIVE lock of the ADD CONSTRAINT for the whole validation',
  safe: 'COMMIT between ADD CONSTRAINT … NOT VALID and VALIDATE CONSTRAINT',
  check(s, ctx, report) {
    const table = relName(s.node.relation);
    if (!table || !ctx.inTransaction(s)) return;
    for (const cmd of cmdsOf(s.node)) {
      if (cmd.subtype === 'AT_ValidateConstraint' && ctx.notValidThisTransaction.has(`${table}.${cmd.name}`))
        report(this, s, `VALIDATE CONSTRAINT ${cmd.name} in the transaction that added it`);
    }
  },
};

function uniqueFix(s: LintStatement, ctx: LintContext, table: string, k: ConstraintNode) {
  if (!k.conname || cmdsOf(s.node).length !== 1 || ctx.inTransaction(s) || ctx.isPartitioned(table)) return undefined;
  const columns = names(k.keys).map(ident).join(', ');
  return {
    title: 'Build the index CONCURRENTLY, then add the constraint USING INDEX',
    start: s.start,
    end: s.end,
    text: `CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ${ident(k.conname)} ON ${qualified(table)} (${columns});\nALTER TABLE ${qualified(table)} ADD CONSTRAINT ${ident(k.conname)} UNIQUE USING INDEX ${ident(k.conname)}`,
  };
}

export const uniqueWithoutIndex: Rule = {
  id: 'unique-without-index',
  squawk: 'disallowed-unique-constraint',
  severity: 'warning',
  on: ['AlterTableStmt'],
  summary: 'A UNIQUE constraint added without USING INDEX builds its index under a lock that blocks reads and writes.',
  lock: 'builds the index under an ACCESS EXCLUSIVE lock (blocks reads and writes)',
  safe: 'CREATE UNIQUE INDEX CONCURRENTLY, then ALTER TABLE … ADD CONSTRAINT … UNIQUE USING INDEX',
  check(s, ctx, report) {
    const table = relName(s.node.relation);
    if (!table || !ctx.isBusy(table)) return;
    for (const k of added(s, 'CONSTR_UNIQUE'))
      if (!k.indexname)
        report(this, s, `UNIQUE ${k.conname ?? ''} on ${table}`.replace('  ', ' '), uniqueFix(s, ctx, table, k));
    for (const cmd of cmdsOf(s.node)) {
      const column = cmd.subtype === 'AT_AddColumn' ? columnDefOf(cmd.def) : undefined;
      if (column?.constraints?.some((k) => constraintOf(k)?.contype === 'CONSTR_UNIQUE'))
        report(this, s, `ADD COLUMN ${column.colname} UNIQUE on ${table}`);
    }
  },
};

export const CONSTRAINT_RULES: readonly Rule[] = [
  checkNotValid,
  foreignKeyNotValid,
  validateInTransaction,
  uniqueWithoutIndex,
];
