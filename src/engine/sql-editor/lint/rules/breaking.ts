// Changes that break the application still running against the table: renames, drops, TRUNCATE … CASCADE.
import { cmdsOf, relName } from '../ast';
import type { LintStatement } from '../context';
import type { Rule } from './rule';

const BREAKS = 'breaks the running application, which still uses the old schema (and takes an ACCESS EXCLUSIVE lock)';

const renameOf = (s: LintStatement, type: string) => s.node.renameType === type;

export const renameColumn: Rule = {
  id: 'rename-column',
  squawk: 'renaming-column',
  severity: 'warning',
  on: ['RenameStmt'],
  summary: 'Renaming a column.',
  lock: BREAKS,
  safe: 'add the new column, write both, move the readers over, then drop the old one',
  check(s, ctx, report) {
    if (renameOf(s, 'OBJECT_COLUMN') && !ctx.isNew(relName(s.node.relation)))
      report(this, s, `RENAME COLUMN ${s.node.subname} of ${relName(s.node.relation)}`);
  },
};

export const renameTable: Rule = {
  id: 'rename-table',
  squawk: 'renaming-table',
  severity: 'warning',
  on: ['RenameStmt'],
  summary: 'Renaming a table.',
  lock: BREAKS,
  safe: 'rename it and leave a view with the old name until the application is moved over',
  check(s, ctx, report) {
    if (renameOf(s, 'OBJECT_TABLE') && !ctx.isNew(relName(s.node.relation)))
      report(this, s, `RENAME of ${relName(s.node.relation)}`);
  },
};

export const dropColumn: Rule = {
  id: 'drop-column',
  squawk: 'ban-drop-column',
  severity: 'warning',
  on: ['AlterTableStmt'],
  summary: 'Dropping a column.',
  lock: BREAKS,
  safe: 'stop the application using the column first, deploy, then drop it',
  check(s, ctx, report) {
    if (ctx.isNew(relName(s.node.relation))) return;
    for (const cmd of cmdsOf(s.node))
      if (cmd.subtype === 'AT_DropColumn') report(this, s, `DROP COLUMN ${cmd.name} of ${relName(s.node.relation)}`);
  },
};

export const dropNotNull: Rule = {
  id: 'drop-not-null',
  squawk: 'ban-drop-not-null',
  severity: 'warning',
  on: ['AlterTableStmt'],
  summary: 'Dropping NOT NULL.',
  lock: 'breaks readers that rely on the column never being NULL',
  safe: 'make sure every reader handles NULL first',
  check(s, ctx, report) {
    if (ctx.isNew(relName(s.node.relation))) return;
    for (const cmd of cmdsOf(s.node))
      if (cmd.subtype === 'AT_DropNotNull') report(this, s, `DROP NOT NULL on ${relName(s.node.relation)}.${cmd.name}`);
  },
};

export const dropTable: Rule = {
  id: 'drop-table',
  squawk: 'ban-drop-table',
  severity: 'warning',
  on: ['DropStmt'],
  summary: 'Dropping a table.',
  lock: BREAKS,
  safe: 'stop the application using it first (rename it aside and drop it in a later release)',
  check(s, ctx, report) {
    if (s.node.removeType !== 'OBJECT_TABLE') return;
    const tables = ((s.node.objects as { List?: { items?: unknown[] } }[]) ?? []).map((o) =>
      (o.List?.items ?? []).map((i) => (i as { String?: { sval?: string } }).String?.sval).join('.'),
    );
    const old = tables.filter((t) => !ctx.isNew(t));
    if (old.length > 0) report(this, s, `DROP TABLE ${old.join(', ')}`);
  },
};

export const dropDatabase: Rule = {
  id: 'drop-database',
  squawk: 'ban-drop-database',
  severity: 'error',
  on: ['DropdbStmt'],
  summary: 'Dropping a database.',
  lock: 'destroys every table in it',
  safe: 'not in a migration',
  check(s, _ctx, report) {
    report(this, s, `DROP DATABASE ${s.node.dbname}`);
  },
};

export const truncateCascade: Rule = {
  id: 'truncate-cascade',
  squawk: 'ban-truncate-cascade',
  severity: 'error',
  on: ['TruncateStmt'],
  summary: 'TRUNCATE … CASCADE empties every table that references it too.',
  lock: 'empties every referencing table as well, under ACCESS EXCLUSIVE locks',
  safe: 'TRUNCATE the tables you mean by name, without CASCADE',
  check(s, _ctx, report) {
    if (s.node.behavior === 'DROP_CASCADE') report(this, s, 'TRUNCATE … CASCADE');
  },
};

export const BREAKING_RULES: readonly Rule[] = [
  renameColumn,
  renameTable,
  dropColumn,
  dropNotNull,
  dropTable,
  dropDatabase,
  truncateCascade,
];
