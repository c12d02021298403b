// Transactions and timeouts: what fails at run time inside one, what is left open, and the waits nothing bounds.
import { cmdsOf, relName } from '../ast';
import type { LintContext, LintStatement } from '../context';
import type { Node } from '../types';
import { insertAt, type Rule } from './rule';

/** Whether a statement runs a CONCURRENTLY operation (which PostgreSQL refuses inside a transaction block). */
function concurrentOperation(s: LintStatement): string | undefined {
  if (s.type === 'IndexStmt' && s.node.concurrent) return 'CREATE INDEX CONCURRENTLY';
  if (s.type === 'DropStmt' && s.node.concurrent) return 'DROP INDEX CONCURRENTLY';
  if (
    s.type === 'ReindexStmt' &&
    ((s.node.params as Node[] | undefined) ?? []).some(
      (p) => (p.DefElem as { defname?: string } | undefined)?.defname === 'concurrently',
    )
  )
    return 'REINDEX CONCURRENTLY';
  if (
    s.type === 'AlterTableStmt' &&
    cmdsOf(s.node).some(
      (c) => (c.def as { PartitionCmd?: { concurrent?: boolean } } | undefined)?.PartitionCmd?.concurrent,
    )
  )
    return 'DETACH PARTITION CONCURRENTLY';
  return undefined;
}

export const concurrentlyInTransaction: Rule = {
  id: 'concurrently-in-transaction',
  squawk: 'ban-concurrent-index-creation-in-transaction',
  severity: 'error',
  on: ['IndexStmt', 'DropStmt', 'ReindexStmt', 'AlterTableStmt'],
  summary: 'A CONCURRENTLY operation inside a transaction block (or a DO block) fails at run time.',
  lock: 'fails at run time: PostgreSQL refuses CONCURRENTLY inside a transaction block',
  safe: 'run it on its own, outside BEGIN … COMMIT and outside DO blocks (with a runner that wraps files in a transaction, put it in a file of its own)',
  check(s, ctx, report) {
    const operation = concurrentOperation(s);
    if (operation && ctx.inTransaction(s))
      report(this, s, `${operation} inside a ${s.inBody ? 'DO block' : 'transaction'}`);
  },
};

const kindOf = (s: LintStatement) => s.node.kind as string;
const BEGINS = ['TRANS_STMT_BEGIN', 'TRANS_STMT_START'];

export const transactionNesting: Rule = {
  id: 'transaction-nesting',
  squawk: 'transaction-nesting',
  severity: 'warning',
  on: ['TransactionStmt'],
  summary: 'BEGIN inside an open transaction (or COMMIT in a file the runner wraps in one).',
  lock: 'does not nest: PostgreSQL warns and carries on in the outer transaction, so the COMMIT that follows ends it early',
  safe: 'one BEGIN … COMMIT at a time; with a runner that wraps the file in a transaction, no BEGIN or COMMIT of your own',
  check(s, ctx, report) {
    const kind = kindOf(s);
    if (BEGINS.includes(kind) && (ctx.openTransaction || ctx.options.assumeInTransaction))
      report(this, s, 'BEGIN inside a transaction');
    if (
      ['TRANS_STMT_COMMIT', 'TRANS_STMT_ROLLBACK'].includes(kind) &&
      ctx.options.assumeInTransaction &&
      !ctx.openTransaction
    )
      report(this, s, `${kind === 'TRANS_STMT_COMMIT' ? 'COMMIT' : 'ROLLBACK'} of the runner's transaction`);
  },
};

export const uncommittedTransaction: Rule = {
  id: 'uncommitted-transaction',
  squawk: 'ban-uncommitted-transaction',
  severity: 'warning',
  summary: 'A BEGIN the file never commits.',
  lock: 'leaves the transaction open, holding every lock it took until the session ends',
  safe: 'end it with COMMIT',
  finish(ctx, report) {
    const open = ctx.openTransaction;
    if (!open || ctx.options.assumeInTransaction) return;
    // After the last statement's semicolon (the file's end), or with one when it has none.
    const source = ctx.options.source;
    const fix =
      source !== undefined && source.slice(ctx.lastStatementEnd).trimStart().startsWith(';')
        ? insertAt('Commit it at the end of the file', source.length, `${source.endsWith('\n') ? '' : '\n'}COMMIT;\n`)
        : insertAt('Commit it at the end of the file', ctx.lastStatementEnd, '\n;\nCOMMIT;');
    report(this, open, 'BEGIN without a COMMIT', fix);
  },
};

/** Statements that wait for a lock the application's queries conflict with (and so make them queue behind). */
function takesBlockingLock(s: LintStatement, ctx: LintContext): boolean {
  const table = relName(s.node.relation ?? s.node.table);
  switch (s.type) {
    case 'AlterTableStmt':
    case 'RenameStmt':
    case 'CreateTrigStmt':
    case 'CreatePolicyStmt':
    case 'AlterPolicyStmt':
      return !ctx.isNew(table);
    case 'IndexStmt':
      return !s.node.concurrent && !ctx.isNew(table);
    case 'DropStmt':
      return (
        !s.node.concurrent &&
        ['OBJECT_TABLE', 'OBJECT_INDEX', 'OBJECT_TRIGGER', 'OBJECT_POLICY', 'OBJECT_VIEW', 'OBJECT_MATVIEW'].includes(
          s.node.removeType as string,
        )
      );
    case 'TruncateStmt':
    case 'LockStmt':
    case 'ReindexStmt':
      return true;
    default:
      return false;
  }
}

/** The statement's leading keywords (ALTER TABLE, CREATE INDEX, TRUNCATE …) for the message. */
const opening = (s: LintStatement) =>
  (s.text.match(/^\w+(\s+(TABLE|INDEX|POLICY|TRIGGER|VIEW|UNIQUE|OR\s+REPLACE))?/i)?.[0] ?? s.type).toUpperCase();

const BLOCKING_TYPES = [
  'AlterTableStmt',
  'RenameStmt',
  'CreateTrigStmt',
  'CreatePolicyStmt',
  'AlterPolicyStmt',
  'IndexStmt',
  'DropStmt',
  'TruncateStmt',
  'LockStmt',
  'ReindexStmt',
];

/** A rule for a statement with a blocking lock and no `setting` in effect; the fix sets it to `value` before it. */
function timeoutRule(
  meta: Omit<Rule, 'on' | 'check' | 'severity'>,
  setting: 'lock_timeout' | 'statement_timeout',
  value: string,
): Rule {
  return {
    ...meta,
    severity: 'warning',
    on: BLOCKING_TYPES,
    check(s, ctx, report) {
      if ((setting === 'lock_timeout' ? ctx.lockTimeoutSet : ctx.statementTimeoutSet) || !takesBlockingLock(s, ctx))
        return;
      report(
        this,
        s,
        `${opening(s)} without a ${setting}`,
        insertAt(`Set ${setting} before it`, s.item.start, `SET ${setting} = '${value}';\n`),
      );
    },
  };
}

export const lockTimeout = timeoutRule(
  {
    id: 'lock-timeout',
    squawk: 'require-lock-timeout',
    summary: 'A statement that waits for a strong lock with no lock_timeout set.',
    lock: 'waits for its lock as long as it takes, and every query on the table queues behind it meanwhile',
    safe: "SET lock_timeout (e.g. '1s') before it, and retry when it times out",
  },
  'lock_timeout',
  '1s',
);

export const statementTimeout = timeoutRule(
  {
    id: 'statement-timeout',
    squawk: 'require-statement-timeout',
    summary: 'A statement that holds a strong lock with no statement_timeout set.',
    lock: 'holds its lock for as long as it runs, with nothing to stop it',
    safe: 'SET statement_timeout before it (any explicit value, 0 included, says how long it may run)',
  },
  'statement_timeout',
  '5min',
);

export const TRANSACTION_RULES: readonly Rule[] = [
  concurrentlyInTransaction,
  transactionNesting,
  uncommittedTransaction,
  lockTimeout,
  statementTimeout,
];
