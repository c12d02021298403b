// What the lint knows at each statement of a file: tables created in it (empty, so no lock warnings), NOT NULL checks
// validated, the transaction, the timeouts set, row-level security. Rules read it; the linter advances it.
import type { SqlStatement } from '../../script/parse';
import { bare, cmdsOf, constraintOf, foreignKeyOf, notNullCheckColumn, relName } from './ast';
import type { LintOptions, Node, TableFacts } from './types';

/** A statement the rules look at: a top-level one, or one of a DO block's body. Offsets are into the file. */
export interface LintStatement {
  readonly type: string;
  readonly node: Node;
  readonly text: string;
  readonly start: number;
  readonly end: number;
  /** The top-level statement it belongs to (itself, or its DO block). */
  readonly item: SqlStatement;
  /** Inside a DO block's body (which is one transaction). */
  readonly inBody: boolean;
  /** Runs under an IF in its block (the block checked the catalog first). */
  readonly guarded: boolean;
  /** The condition of the IF it runs under. */
  readonly guardCondition?: string;
}

export class LintContext {
  readonly postgresVersion: number;
  private readonly created = new Set<string>();
  private readonly partitioned = new Set<string>();
  /** `table.constraint` → column of CHECK (column IS NOT NULL) constraints added NOT VALID. */
  private readonly pendingChecks = new Map<string, string>();
  private readonly validatedNotNull = new Set<string>();
  /** `table.constraint` → key of foreign keys added NOT VALID; the keys (`columns->table`) validated, by table. */
  private readonly pendingForeignKeys = new Map<string, string>();
  private readonly validatedForeignKeys = new Set<string>();
  /** A partitioned table's leaves, as the script asserts them before it changes anything. */
  private readonly assertedLeaves = new Map<string, string[]>();
  /** Constraints added NOT VALID in the transaction now open. */
  readonly notValidThisTransaction = new Set<string>();
  /** Where the last statement ends (before its semicolon, if it has one). */
  lastStatementEnd = 0;
  /** The explicit BEGIN now open. */
  openTransaction?: LintStatement;
  private sessionLockTimeout = false;
  private sessionStatementTimeout = false;
  private localLockTimeout = false;
  private localStatementTimeout = false;
  readonly rlsEnabled = new Map<string, LintStatement>();
  readonly rlsForced = new Set<string>();
  readonly policies: { table: string; statement: LintStatement }[] = [];
  /** `constraint:table.name` and `policy:table.name` dropped IF EXISTS earlier: the ADD or CREATE after them can run again. */
  private readonly droppedFirst = new Set<string>();
  private readonly tenant?: Set<string>;
  /** Tables a function's body names without a schema (set by the linter, which has the parsers). */
  unqualifiedInBody?: (s: LintStatement) => string[];

  constructor(readonly options: LintOptions) {
    this.postgresVersion = options.postgresVersion ?? 15;
    if (options.tenantTables)
      this.tenant = new Set(options.tenantTables.flatMap((t) => [t.replace(/"/g, ''), bare(t.replace(/"/g, ''))]));
  }

  private has(set: ReadonlySet<string>, table: string): boolean {
    return set.has(table) || set.has(bare(table));
  }

  facts(table: string): TableFacts | undefined {
    return this.options.tables?.get(table) ?? this.options.tables?.get(bare(table));
  }

  /** Created earlier in this file: empty, so its locks are short and its rewrites free. */
  isNew(table: string | undefined): boolean {
    return !!table && this.has(this.created, table);
  }

  isPartitioned(table: string | undefined): boolean {
    return !!table && (this.has(this.partitioned, table) || !!this.facts(table)?.partitioned);
  }

  /** A table that holds rows the application uses: not created here, and not known small. */
  isBusy(table: string | undefined): boolean {
    if (this.isNew(table)) return false;
    if (!table) return true;
    const rows = this.options.tableRows?.get(table) ?? this.options.tableRows?.get(bare(table));
    return rows === undefined || rows >= (this.options.largeTableRows ?? 10_000);
  }

  inTransaction(s: LintStatement): boolean {
    return !!this.options.assumeInTransaction || !!this.openTransaction || s.inBody;
  }

  get lockTimeoutSet(): boolean {
    return this.sessionLockTimeout || this.localLockTimeout;
  }
  get statementTimeoutSet(): boolean {
    return this.sessionStatementTimeout || this.localStatementTimeout;
  }

  notNullValidated(table: string, column: string): boolean {
    return (
      this.validatedNotNull.has(`${table}.${column}`) ||
      this.validatedNotNull.has(`${bare(table)}.${column}`) ||
      !!this.facts(table)?.notNullChecked?.includes(column)
    );
  }

  /** The leaf partitions of a partitioned table, when the script asserts them or the database says; else undefined. */
  leavesOf(table: string): readonly string[] | undefined {
    return this.assertedLeaves.get(table) ?? this.assertedLeaves.get(bare(table)) ?? this.facts(table)?.leaves;
  }

  /**
   * The per-partition path: every leaf of a partitioned table already holds what the parent's statement would
   * otherwise prove by scanning (a validated CHECK (col IS NOT NULL), a validated foreign key of the same key).
   */
  leavesProve(table: string, proven: (leaf: string) => boolean): boolean {
    const leaves =
      this.isPartitioned(table) || this.assertedLeaves.has(table) || this.assertedLeaves.has(bare(table))
        ? this.leavesOf(table)
        : undefined;
    return !!leaves && leaves.every(proven);
  }

  foreignKeyValidated(table: string, key: string): boolean {
    return this.validatedForeignKeys.has(`${table}|${key}`) || this.validatedForeignKeys.has(`${bare(table)}|${key}`);
  }

  /** A tenant table: in the spec's list, or (without one) any table. */
  isTenant(table: string): boolean {
    return !this.tenant || this.has(this.tenant, table);
  }

  rlsOn(table: string): boolean {
    return (
      [...this.rlsEnabled.keys()].some((t) => t === table || bare(t) === bare(table)) || !!this.facts(table)?.rlsEnabled
    );
  }

  rlsForcedOn(table: string): boolean {
    return this.has(this.rlsForced, table) || !!this.facts(table)?.rlsForced;
  }

  /** After the rules saw a statement: what it changed. */
  observe(s: LintStatement): void {
    const node = s.node;
    switch (s.type) {
      case 'CreateStmt':
      case 'CreateTableAsStmt': {
        const table = relName(node.relation ?? (node.into as Node | undefined)?.rel);
        if (table) {
          this.created.add(table);
          this.created.add(bare(table));
        }
        if (table && node.partspec) {
          this.partitioned.add(table);
          this.partitioned.add(bare(table));
        }
        break;
      }
      case 'VariableSetStmt': {
        const name = node.name as string | undefined;
        const local = !!node.is_local;
        if (name === 'lock_timeout') {
          if (local) this.localLockTimeout = true;
          else this.sessionLockTimeout = true;
        }
        if (name === 'statement_timeout') {
          if (local) this.localStatementTimeout = true;
          else this.sessionStatementTimeout = true;
        }
        break;
      }
      case 'TransactionStmt': {
        const kind = node.kind as string;
        if (kind === 'TRANS_STMT_BEGIN' || kind === 'TRANS_STMT_START') this.openTransaction ??= s;
        if (kind === 'TRANS_STMT_COMMIT' || kind === 'TRANS_STMT_ROLLBACK') this.endTransaction();
        break;
      }
      case 'AlterTableStmt':
        this.observeAlter(s);
        break;
      case 'DoStmt':
        this.observeLeafAssertions(s.text);
        break;
      case 'CreatePolicyStmt': {
        const table = relName(node.table);
        if (table) this.policies.push({ table, statement: s });
        break;
      }
      case 'DropStmt': {
        if (node.removeType !== 'OBJECT_POLICY' || !node.missing_ok) break;
        for (const o of (node.objects as { List?: { items?: { String?: { sval?: string } }[] } }[]) ?? []) {
          const parts = (o.List?.items ?? []).map((i) => i.String?.sval ?? '');
          const policy = parts.pop();
          if (policy) this.droppedFirst.add(`policy:${bare(parts.join('.'))}.${policy}`);
        }
        break;
      }
      default:
        break;
    }
  }

  private observeAlter(s: LintStatement): void {
    const table = relName(s.node.relation);
    if (!table) return;
    for (const cmd of cmdsOf(s.node)) {
      const k = constraintOf(cmd.def);
      if (cmd.subtype === 'AT_AddConstraint' && k) {
        const column = k.contype === 'CONSTR_CHECK' ? notNullCheckColumn(k) : undefined;
        const key = k.contype === 'CONSTR_FOREIGN' ? foreignKeyOf(k) : undefined;
        if (key && !k.skip_validation) this.markForeignKeyValidated(table, key);
        if (key && k.skip_validation && k.conname) this.pendingForeignKeys.set(`${table}.${k.conname}`, key);
        if (k.skip_validation && k.conname) {
          if (column) this.addNotValidCheck(table, k.conname, column);
          if (this.inTransaction(s)) this.notValidThisTransaction.add(`${table}.${k.conname}`);
        } else if (column) this.markNotNullValidated(table, column);
      }
      if (cmd.subtype === 'AT_ValidateConstraint' && cmd.name) this.validated(table, cmd.name);
      if (cmd.subtype === 'AT_DropConstraint' && cmd.missing_ok && cmd.name)
        this.droppedFirst.add(`constraint:${bare(table)}.${cmd.name}`);
      if (cmd.subtype === 'AT_EnableRowSecurity') this.rlsEnabled.set(table, s);
      if (cmd.subtype === 'AT_ForceRowSecurity') this.rlsForced.add(table);
      if (cmd.subtype === 'AT_DisableRowSecurity') this.rlsEnabled.delete(table);
    }
  }

  endTransaction(): void {
    this.openTransaction = undefined;
    this.localLockTimeout = false;
    this.localStatementTimeout = false;
    this.notValidThisTransaction.clear();
  }

  /** A DO block is its own transaction unless one is open. */
  endBlock(): void {
    if (!this.openTransaction && !this.options.assumeInTransaction) this.endTransaction();
  }

  /** Dropped IF EXISTS earlier in the file (so creating it again can run twice). */
  droppedBefore(kind: 'constraint' | 'policy', table: string, name: string): boolean {
    return this.droppedFirst.has(`${kind}:${bare(table)}.${name}`);
  }

  addNotValidCheck(table: string, constraint: string, column: string): void {
    this.pendingChecks.set(`${table}.${constraint}`, column);
  }

  validated(table: string, constraint: string): void {
    const column = this.pendingChecks.get(`${table}.${constraint}`);
    if (column) this.markNotNullValidated(table, column);
    const key = this.pendingForeignKeys.get(`${table}.${constraint}`);
    if (key) this.markForeignKeyValidated(table, key);
  }

  private markForeignKeyValidated(table: string, key: string): void {
    this.validatedForeignKeys.add(`${table}|${key}`);
    this.validatedForeignKeys.add(`${bare(table)}|${key}`);
  }

  /**
   * The generated script's partition check: a DO block that raises unless pg_partition_tree(T)'s leaves are exactly
   * the listed ones (`unnest(ARRAY['s.leaf', …]::text[]) … IS DISTINCT FROM (… pg_partition_tree('T'::regclass) … WHERE p.isleaf)`).
   */
  private observeLeafAssertions(text: string): void {
    if (!/\bRAISE\s+EXCEPTION\b/i.test(text)) return;
    const pattern =
      /unnest\(ARRAY\[([^\]]*)\]::text\[\]\)\s+AS\s+x\)\s+IS\s+DISTINCT\s+FROM\s+\(SELECT\s+array_agg\(x ORDER BY x\)\s+FROM\s+\(SELECT\s+n\.nspname \|\| '\.' \|\| c\.relname AS x FROM pg_partition_tree\('([^']+)'::regclass\) AS p\s+JOIN pg_class c ON c\.oid = p\.relid JOIN pg_namespace n ON n\.oid = c\.relnamespace WHERE p\.isleaf\) AS x\)/g;
    for (const m of text.matchAll(pattern)) {
      const leaves = [...m[1]!.matchAll(/'((?:[^']|'')*)'/g)].map((l) => l[1]!.replace(/''/g, "'"));
      const table = m[2]!.replace(/''/g, "'").replace(/"/g, '');
      this.assertedLeaves.set(table, leaves);
      this.assertedLeaves.set(bare(table), leaves);
    }
  }

  markNotNullValidated(table: string, column: string): void {
    this.validatedNotNull.add(`${table}.${column}`);
    this.validatedNotNull.add(`${bare(table)}.${column}`);
  }
}
