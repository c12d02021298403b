// The lint's public shapes: findings with their quick fixes, the options the editor and the CLI pass, and what a rule is.
export type Severity = 'error' | 'warning' | 'info';

export interface LintFix {
  readonly title: string;
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

export interface LintDiagnostic {
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
  readonly start: number;
  readonly end: number;
  readonly fix?: LintFix;
}

export type Node = Record<string, unknown>;

export type ParseSync = (sql: string) => { stmts?: { stmt?: Node }[] };
export type ParsePlPgSqlSync = (sql: string) => unknown;

/** What the connected database says about a table (for the RLS rules and SET NOT NULL). */
export interface TableFacts {
  readonly rlsEnabled?: boolean;
  readonly rlsForced?: boolean;
  readonly partitioned?: boolean;
  /** A partitioned table's leaf partitions (schema-qualified). */
  readonly leaves?: readonly string[];
  /** Columns with a validated CHECK (col IS NOT NULL). */
  readonly notNullChecked?: readonly string[];
}

export interface LintOptions {
  /** Estimated rows per table (by bare or schema-qualified name); a table missing here counts as large. */
  readonly tableRows?: ReadonlyMap<string, number>;
  readonly largeTableRows?: number;
  /** The file's text: `-- tenant-migrate-ignore` and `-- squawk-ignore` comments are read from it. */
  readonly source?: string;
  /** The PostgreSQL major version the script runs on (default 15). */
  readonly postgresVersion?: number;
  /** The runner wraps the whole file in one transaction (squawk's --assume-in-transaction). */
  readonly assumeInTransaction?: boolean;
  /** Rules turned on or off by id (or squawk's name); a rule not named keeps its default (on). */
  readonly rules?: Readonly<Record<string, boolean>>;
  /** The spec's tenant tables: the RLS rules look at these only (all tables when not given). */
  readonly tenantTables?: readonly string[];
  /** Roles whose policies may see every tenant (service roles): exempt from the permissive-policy rule. */
  readonly crossTenantRoles?: readonly string[];
  /** Facts from the connected database, by bare or schema-qualified table name. */
  readonly tables?: ReadonlyMap<string, TableFacts>;
}

/** One rule: its id, squawk's name for it, the lock it is about, and what to do instead. */
export interface RuleMeta {
  readonly id: string;
  readonly squawk?: string;
  readonly severity: Severity;
  /** The lock the statement takes (or the breakage it causes), as the message says it. */
  readonly lock?: string;
  /** The safe alternative, as the message says it. */
  readonly safe: string;
  readonly summary: string;
}
