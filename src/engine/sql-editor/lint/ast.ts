// Reading PostgreSQL parse trees (libpg-query's JSON): names, constraints, column definitions.
import type { Node } from './types';

export const relName = (rv: unknown): string | undefined => {
  const r = rv as { relname?: string; schemaname?: string } | undefined;
  return r?.relname ? (r.schemaname ? `${r.schemaname}.${r.relname}` : r.relname) : undefined;
};

export const bare = (table: string) => table.split('.').pop()!;

export const str = (n: unknown): string | undefined => (n as { String?: { sval?: string } } | undefined)?.String?.sval;

export const names = (list: unknown): string[] =>
  ((list as unknown[] | undefined) ?? []).map(str).filter((s): s is string => s !== undefined);

export interface ConstraintNode {
  contype?: string;
  conname?: string;
  skip_validation?: boolean;
  initially_valid?: boolean;
  raw_expr?: Node;
  indexname?: string;
  keys?: unknown[];
  pktable?: unknown;
  fk_attrs?: unknown[];
  pk_attrs?: unknown[];
  generated_when?: string;
}

export interface AlterCmd {
  subtype?: string;
  name?: string;
  def?: Node;
  missing_ok?: boolean;
  behavior?: string;
}

export const cmdsOf = (node: Node): AlterCmd[] =>
  ((node.cmds as Node[] | undefined) ?? [])
    .map((c) => c.AlterTableCmd as AlterCmd | undefined)
    .filter((c): c is AlterCmd => !!c);

export const constraintOf = (n: unknown): ConstraintNode | undefined =>
  (n as { Constraint?: ConstraintNode } | undefined)?.Constraint;

export interface ColumnDefNode {
  colname?: string;
  typeName?: { names?: unknown[] };
  constraints?: unknown[];
  raw_default?: Node;
}

export const columnDefOf = (n: unknown): ColumnDefNode | undefined =>
  (n as { ColumnDef?: ColumnDefNode } | undefined)?.ColumnDef;

export const typeNameOf = (c: ColumnDefNode): string =>
  names(c.typeName?.names)
    .filter((n) => n !== 'pg_catalog')
    .join('.')
    .toLowerCase();

/** The column a CHECK (col IS NOT NULL) is about, if it is that. */
export function notNullCheckColumn(c: ConstraintNode): string | undefined {
  const test = c.raw_expr?.NullTest as
    { arg?: { ColumnRef?: { fields?: unknown[] } }; nulltesttype?: string } | undefined;
  return test?.nulltesttype === 'IS_NOT_NULL' ? str(test.arg?.ColumnRef?.fields?.at(-1)) : undefined;
}

/** A foreign key's identity for matching a partition's key to its parent's: `columns->table(columns)`. */
export const foreignKeyOf = (k: ConstraintNode): string =>
  `${names(k.fk_attrs).join(',')}->${bare(relName(k.pktable) ?? '')}(${names(k.pk_attrs).join(',')})`;

/** Every RangeVar under a node (tables a query reads), minus CTE names. */
export function tablesIn(node: unknown, out: string[] = [], ctes = new Set<string>()): string[] {
  if (Array.isArray(node)) {
    for (const n of node) tablesIn(n, out, ctes);
    return out;
  }
  if (!node || typeof node !== 'object') return out;
  for (const [key, value] of Object.entries(node as Node)) {
    if (key === 'CommonTableExpr') {
      const name = (value as { ctename?: string }).ctename;
      if (name) ctes.add(name);
    }
    if (key === 'RangeVar') {
      const r = value as { relname?: string; schemaname?: string };
      if (r.relname && (r.schemaname || !ctes.has(r.relname))) out.push(relName(r)!);
      continue;
    }
    tablesIn(value, out, ctes);
  }
  return out;
}

/** Every RangeVar without a schema (for SECURITY DEFINER bodies), minus CTE names. */
export function unqualifiedTables(node: unknown): string[] {
  const ctes = new Set<string>();
  return tablesIn(node, [], ctes).filter((t) => !t.includes('.') && !ctes.has(t));
}
