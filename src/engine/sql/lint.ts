// A lint for migration scripts, in the spirit of squawk: statements that hold strong locks on large tables for
// long, and DDL that is not idempotent. Works on PostgreSQL's parse trees, cached per statement text.
import type { ScriptItem, SqlStatement } from '../script/parse';

export type Severity = 'error' | 'warning' | 'info';

export interface LintFix { readonly title: string; readonly start: number; readonly end: number; readonly text: string }

export interface LintDiagnostic {
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
  readonly start: number;
  readonly end: number;
  readonly fix?: LintFix;
}

type Node = Record<string, unknown>;

export interface SyntaxProblem { readonly message: string; readonly offset: number }

interface Facts { readonly type: string; readonly node: Node; readonly isDdl: boolean; readonly setsLockTimeout: boolean; readonly quiet: boolean }

function syntaxError(error: unknown, sql: string): SyntaxProblem {
  const e = error as { message?: string; sqlDetails?: { cursorPosition?: number } };
  const bytes = e.sqlDetails?.cursorPosition ?? 0;
  // The parser counts UTF-8 bytes; the editor counts characters.
  const offset = Buffer.from(sql).subarray(0, bytes).toString().length;
  return { message: e.message ?? String(error), offset: Math.min(offset, sql.length) };
}
export type ParseSync = (sql: string) => { stmts?: { stmt?: Node }[] };

export interface LintOptions {
  /** Estimated rows per table (by bare or schema-qualified name); a table missing here counts as large. */
  readonly tableRows?: ReadonlyMap<string, number>;
  readonly largeTableRows?: number;
}

const relName = (rv: unknown) => {
  const r = rv as { relname?: string; schemaname?: string } | undefined;
  return r?.relname ? (r.schemaname ? `${r.schemaname}.${r.relname}` : r.relname) : undefined;
};

/** Statement texts whose parse trees are kept; beyond it the cache starts over. */
const CACHE_LIMIT = 50_000;

export class MigrationLinter {
  private cache = new Map<string, Node | null>();
  private errors = new Map<string, SyntaxProblem>();
  private facts = new Map<string, Facts | null>();

  constructor(private readonly parseSync: ParseSync) {}

  /** PostgreSQL's syntax error for a statement that does not parse (its offset is within the statement). */
  syntaxErrorOf(sql: string): SyntaxProblem | undefined {
    this.tree(sql);
    return this.errors.get(sql);
  }

  /** The parse tree of a statement (cached by its text), or null when it does not parse. */
  treeOf(sql: string): Node | null {
    return this.tree(sql);
  }

  /**
   * Fills the cache for many statements with a few whole-batch parses instead of one parse per statement (a file
   * opened for the first time). A statement with a syntax error is found from the error's position and left out.
   */
  prime(items: readonly ScriptItem[]): void {
    let pending = items.filter((i): i is SqlStatement => i.kind === 'sql' && !this.cache.has(i.text));
    for (let failures = 0; pending.length > 0 && failures < 8;) {
      const starts: number[] = [];
      let text = '';
      for (const item of pending) { starts.push(text.length); text += `${item.text};\n`; }
      try {
        const stmts = this.parseSync(text).stmts ?? [];
        if (stmts.length !== pending.length) break;
        pending.forEach((item, i) => this.cache.set(item.text, stmts[i]?.stmt ?? null));
        return;
      } catch (error) {
        failures++;
        const cursor = (error as { sqlDetails?: { cursorPosition?: number } }).sqlDetails?.cursorPosition;
        if (cursor === undefined || !/^[\x00-\x7f]*$/.test(text)) break;
        let bad = starts.findIndex((s, i) => cursor >= s && (i + 1 === starts.length || cursor < starts[i + 1]!));
        if (bad === -1) bad = pending.length - 1;
        this.prime(pending.slice(0, bad));
        this.tree(pending[bad]!.text);
        pending = pending.slice(bad + 1);
      }
    }
    for (const item of pending) this.tree(item.text);
  }

  /**
   * Primes the next `limit` statements not parsed yet (a slice of a large file's first lint); true when none are left,
   * or when the file has more statements than the cache keeps (lint() then parses them as it goes).
   */
  primeSome(items: readonly ScriptItem[], limit: number): boolean {
    if (items.length > CACHE_LIMIT) return true;
    const pending = items.filter((i): i is SqlStatement => i.kind === 'sql' && !this.cache.has(i.text));
    this.prime(pending.slice(0, limit));
    return pending.length <= limit;
  }

  private tree(sql: string): Node | null {
    let tree = this.cache.get(sql);
    if (tree === undefined) {
      try {
        tree = this.parseSync(sql).stmts?.[0]?.stmt ?? null;
      } catch (error) {
        tree = null;
        this.errors.set(sql, syntaxError(error, sql));
      }
      if (this.cache.size > CACHE_LIMIT) { this.cache.clear(); this.errors.clear(); }
      this.cache.set(sql, tree);
    }
    return tree;
  }

  /** What the lint needs of a statement, once per statement text (a keystroke re-lints a 5,000-statement file). */
  private factsOf(sql: string): Facts | null {
    let facts = this.facts.get(sql);
    if (facts === undefined) {
      const tree = this.tree(sql);
      if (!tree) facts = null;
      else {
        const type = Object.keys(tree)[0]!;
        const node = tree[type] as Node;
        // Statements no rule looks at (queries, DO blocks, SET …): only the lock_timeout bookkeeping applies to them.
        const quiet = !['AlterTableStmt', 'IndexStmt', 'UpdateStmt', 'DeleteStmt', 'CreateStmt', 'DropStmt'].includes(type);
        facts = { type, node, isDdl: /^(Alter|Create|Index|Drop)/.test(type) || type === 'IndexStmt', setsLockTimeout: type === 'VariableSetStmt' && node.name === 'lock_timeout', quiet };
      }
      if (this.facts.size > CACHE_LIMIT) this.facts.clear();
      this.facts.set(sql, facts);
    }
    return facts;
  }

  lint(items: readonly ScriptItem[], options: LintOptions = {}): LintDiagnostic[] {
    const large = options.largeTableRows ?? 10_000;
    const isLarge = (table: string | undefined) => {
      if (!table) return true;
      const rows = options.tableRows?.get(table) ?? options.tableRows?.get(table.split('.').pop()!);
      return rows === undefined || rows >= large;
    };
    const out: LintDiagnostic[] = [];
    const validatedChecks = new Set<string>();
    let lockTimeoutSet = false;
    let reportedLockTimeout = false;
    for (const item of items) {
      if (item.kind !== 'sql') continue;
      const facts = this.factsOf(item.text);
      if (!facts) continue;
      const { type, node, isDdl } = facts;
      if (facts.setsLockTimeout) lockTimeoutSet = true;
      if (facts.quiet && (!isDdl || lockTimeoutSet || reportedLockTimeout)) continue;
      const at = (code: string, severity: Severity, message: string, fix?: LintFix) => out.push({ code, severity, message, start: item.start, end: item.end, fix });
      if (isDdl && !lockTimeoutSet && !reportedLockTimeout) {
        reportedLockTimeout = true;
        at('lock-timeout', 'warning', 'DDL without a lock_timeout: if the table is busy, this statement queues behind the application and blocks everyone behind it.',
          { title: "Set lock_timeout before the first DDL", start: item.start, end: item.start, text: "SET lock_timeout = '1s';\n" });
      }
      switch (type) {
        case 'AlterTableStmt': this.alterTable(item, node, isLarge, validatedChecks, at); break;
        case 'IndexStmt': {
          const table = relName(node.relation);
          // ON ONLY builds nothing: a partitioned table's own index, its partitions' built apart and attached.
          if (!node.concurrent && (node.relation as { inh?: boolean } | undefined)?.inh === true && isLarge(table)) {
            const pos = item.text.search(/\bINDEX\b/i);
            at('index-concurrently', 'warning', `CREATE INDEX on ${table} blocks writes for the whole build: use CREATE INDEX CONCURRENTLY.`,
              pos >= 0 ? { title: 'Build it CONCURRENTLY', start: item.start + pos + 5, end: item.start + pos + 5, text: ' CONCURRENTLY' } : undefined);
          }
          if (!node.if_not_exists && node.idxname) at('not-idempotent', 'info', 'CREATE INDEX without IF NOT EXISTS fails when the script runs again.', insertAfter(item, /\bINDEX(\s+CONCURRENTLY)?\b/i, ' IF NOT EXISTS', 'Add IF NOT EXISTS'));
          break;
        }
        case 'UpdateStmt': case 'DeleteStmt': {
          const table = relName(node.relation);
          if (!node.whereClause && isLarge(table)) at('whole-table-write', 'warning', `${type === 'UpdateStmt' ? 'UPDATE' : 'DELETE'} of all of ${table} in one statement holds row locks on every row until it commits: batch it.`);
          break;
        }
        case 'CreateStmt':
          if (!node.if_not_exists) at('not-idempotent', 'info', 'CREATE TABLE without IF NOT EXISTS fails when the script runs again.', insertAfter(item, /\bTABLE\b/i, ' IF NOT EXISTS', 'Add IF NOT EXISTS'));
          break;
        case 'DropStmt':
          if (!node.missing_ok) at('not-idempotent', 'info', 'DROP without IF EXISTS fails when the script runs again.', insertAfter(item, /\bDROP\s+\w+(\s+\w+)?\b/i, ' IF EXISTS', 'Add IF EXISTS'));
          break;
        default: break;
      }
    }
    return out;
  }

  private alterTable(item: SqlStatement, node: Node, isLarge: (t?: string) => boolean, validatedChecks: Set<string>,
    at: (code: string, severity: Severity, message: string, fix?: LintFix) => void): void {
    const table = relName(node.relation);
    for (const cmdNode of (node.cmds as Node[]) ?? []) {
      const cmd = cmdNode.AlterTableCmd as { subtype?: string; name?: string; def?: Node; missing_ok?: boolean } | undefined;
      if (!cmd) continue;
      const constraint = cmd.def?.Constraint as { contype?: string; skip_validation?: boolean; raw_expr?: Node } | undefined;
      if (cmd.subtype === 'AT_AddConstraint' && constraint?.contype === 'CONSTR_CHECK') {
        const test = constraint.raw_expr?.NullTest as { arg?: { ColumnRef?: { fields?: { String?: { sval?: string } }[] } }; nulltesttype?: string } | undefined;
        const column = test?.arg?.ColumnRef?.fields?.at(-1)?.String?.sval;
        if (column && test?.nulltesttype === 'IS_NOT_NULL') validatedChecks.add(`${table}.${column}`);
      }
      if (cmd.subtype === 'AT_SetNotNull' && isLarge(table) && !validatedChecks.has(`${table}.${cmd.name}`)) {
        at('set-not-null', 'warning', `SET NOT NULL on ${table}.${cmd.name} scans the whole table under an ACCESS EXCLUSIVE lock: add CHECK (${cmd.name} IS NOT NULL) NOT VALID, VALIDATE it, then SET NOT NULL (no scan).`);
      }
      if (cmd.subtype === 'AT_AddConstraint' && constraint?.contype === 'CONSTR_FOREIGN' && !constraint.skip_validation && isLarge(table)) {
        at('foreign-key-not-valid', 'warning', `A foreign key on ${table} is validated under a SHARE ROW EXCLUSIVE lock that blocks writes: add it NOT VALID, then VALIDATE CONSTRAINT separately.`,
          { title: 'Add it NOT VALID', start: item.end, end: item.end, text: ' NOT VALID' });
      }
      if (cmd.subtype === 'AT_AddColumn' && !cmd.missing_ok) {
        at('not-idempotent', 'info', 'ADD COLUMN without IF NOT EXISTS fails when the script runs again.', insertAfter(item, /\bADD\s+(COLUMN\b)?/i, '', 'Add IF NOT EXISTS', (m) => `${m.trimEnd()}${/column/i.test(m) ? '' : ' COLUMN'} IF NOT EXISTS `));
      }
    }
  }
}

function insertAfter(item: SqlStatement, pattern: RegExp, text: string, title: string, replace?: (match: string) => string): LintFix | undefined {
  const match = pattern.exec(item.text);
  if (!match) return undefined;
  const start = item.start + match.index;
  const end = start + match[0].length;
  return replace ? { title, start, end, text: replace(match[0]) } : { title, start: end, end, text };
}
