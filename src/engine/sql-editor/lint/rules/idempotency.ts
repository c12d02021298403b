// Statements that fail when the script runs again after a failure (outside a transaction nothing rolls them back).
import { cmdsOf, constraintOf, relName } from '../ast';
import { insertAt, qualified, ident } from './rule';
import type { LintStatement } from '../context';
import type { LintFix } from '../types';
import type { Rule } from './rule';

/** A fix at the n-th match of a global pattern in the statement. */
function nthFix(
  s: LintStatement,
  pattern: RegExp,
  n: number,
  title: string,
  text: (m: string) => string,
): LintFix | undefined {
  const match = [...s.text.matchAll(pattern)][n];
  if (match?.index === undefined) return undefined;
  const start = s.start + match.index;
  return { title, start, end: start + match[0].length, text: text(match[0]) };
}

const CREATE_TABLE = /^CREATE\s+((GLOBAL|LOCAL)\s+)?((TEMP|TEMPORARY|UNLOGGED)\s+)?TABLE\b/gi;
const CREATE_INDEX = /^CREATE\s+(UNIQUE\s+)?INDEX(\s+CONCURRENTLY)?\b/gi;
const DROP_OBJECT =
  /^DROP\s+(MATERIALIZED\s+VIEW|FOREIGN\s+TABLE|EVENT\s+TRIGGER|ACCESS\s+METHOD|TEXT\s+SEARCH\s+\w+|INDEX(\s+CONCURRENTLY)?|\w+)\b/gi;
const ADD_COLUMN = /\bADD\s+(COLUMN\s+)?(?!(CONSTRAINT|PRIMARY|UNIQUE|CHECK|FOREIGN|EXCLUDE|IF|GENERATED|VALUE)\b)/gi;
const DROP_COLUMN = /\bDROP\s+(COLUMN\s+)?(?!(CONSTRAINT|IF|NOT|DEFAULT|IDENTITY|EXPRESSION)\b)/gi;
const DROP_CONSTRAINT = /\bDROP\s+CONSTRAINT\s+(IF\s+EXISTS\s+)?/gi;

export const notIdempotent: Rule = {
  id: 'not-idempotent',
  squawk: 'prefer-robust-stmts',
  severity: 'info',
  on: ['CreateStmt', 'IndexStmt', 'DropStmt', 'AlterTableStmt', 'CreatePolicyStmt'],
  summary: 'DDL without IF [NOT] EXISTS, outside a transaction: a second run after a failure stops at it.',
  lock: 'fails when the script runs again after a failure part-way',
  safe: 'write IF NOT EXISTS / IF EXISTS (or run the file in one transaction)',
  check(s, ctx, report) {
    if (ctx.inTransaction(s) || s.guarded) return;
    const exists = (m: string) => `${m} IF NOT EXISTS`;
    switch (s.type) {
      case 'CreateStmt':
        if (!s.node.if_not_exists)
          report(
            this,
            s,
            'CREATE TABLE without IF NOT EXISTS',
            nthFix(s, CREATE_TABLE, 0, 'Add IF NOT EXISTS', exists),
          );
        break;
      case 'IndexStmt':
        if (!s.node.if_not_exists && s.node.idxname)
          report(
            this,
            s,
            'CREATE INDEX without IF NOT EXISTS',
            nthFix(s, CREATE_INDEX, 0, 'Add IF NOT EXISTS', exists),
          );
        break;
      case 'DropStmt':
        if (!s.node.missing_ok)
          report(
            this,
            s,
            'DROP without IF EXISTS',
            nthFix(s, DROP_OBJECT, 0, 'Add IF EXISTS', (m) => `${m} IF EXISTS`),
          );
        break;
      case 'CreatePolicyStmt': {
        const table = relName(s.node.table);
        const name = s.node.policy_name as string;
        if (table && !ctx.droppedBefore('policy', table, name)) {
          report(
            this,
            s,
            'CREATE POLICY (which has no IF NOT EXISTS) without a DROP POLICY IF EXISTS before it or a check in a DO block',
            insertAt(
              'Drop it IF EXISTS first',
              s.item.start,
              `DROP POLICY IF EXISTS ${ident(name)} ON ${qualified(table)};\n`,
            ),
          );
        }
        break;
      }
      case 'AlterTableStmt': {
        const counts = { add: 0, column: 0, constraint: 0 };
        const table = relName(s.node.relation);
        for (const cmd of cmdsOf(s.node)) {
          const k = cmd.subtype === 'AT_AddConstraint' ? constraintOf(cmd.def) : undefined;
          if (k?.conname && table && !ctx.droppedBefore('constraint', table, k.conname) && !ctx.isNew(table)) {
            // No mechanical fix: dropping a validated constraint to add it again costs a validation, and dropping a
            // constraint made USING INDEX drops the index too. A check in a DO block (as the generated script does) is the fix.
            report(
              this,
              s,
              `ADD CONSTRAINT ${k.conname} (which has no IF NOT EXISTS) without a check of pg_constraint in a DO block, or a DROP CONSTRAINT IF EXISTS, before it`,
            );
          }
          if (cmd.subtype === 'AT_AddColumn') {
            const n = counts.add++;
            if (!cmd.missing_ok)
              report(
                this,
                s,
                'ADD COLUMN without IF NOT EXISTS',
                nthFix(s, ADD_COLUMN, n, 'Add IF NOT EXISTS', () => 'ADD COLUMN IF NOT EXISTS '),
              );
          }
          if (cmd.subtype === 'AT_DropColumn') {
            const n = counts.column++;
            if (!cmd.missing_ok)
              report(
                this,
                s,
                'DROP COLUMN without IF EXISTS',
                nthFix(s, DROP_COLUMN, n, 'Add IF EXISTS', () => 'DROP COLUMN IF EXISTS '),
              );
          }
          if (cmd.subtype === 'AT_DropConstraint') {
            const n = counts.constraint++;
            if (!cmd.missing_ok)
              report(
                this,
                s,
                'DROP CONSTRAINT without IF EXISTS',
                nthFix(s, DROP_CONSTRAINT, n, 'Add IF EXISTS', () => 'DROP CONSTRAINT IF EXISTS '),
              );
          }
        }
        break;
      }
      default:
        break;
    }
  },
};

export const IDEMPOTENCY_RULES: readonly Rule[] = [notIdempotent];
