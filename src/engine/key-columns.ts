// A rule's key: one column or several (a composite key), paired in order with the parent's or the mapping table's.
// SQL pieces every user of a rule shares, so the backfill, the gaps, the triggers and validation match on exactly the
// same columns.
import { quoteIdent as qi } from './db/sql';

export interface ParentKey {
  /** The child's columns, in the order they pair with `references`. */
  readonly columns: readonly string[];
  /** The parent's columns. */
  readonly references: readonly string[];
}

/** `p.ref1 = c.col1 AND p.ref2 = c.col2`: a row with NULL in any key column matches no parent. */
export function parentMatch(key: ParentKey, parentAlias: string, child: string): string {
  return key.columns.map((c, i) => `${parentAlias}.${qi(key.references[i]!)} = ${child}.${qi(c)}`).join(' AND ');
}

/** True when any of the child's key columns is NULL (such a row has no parent, whatever the others hold). */
export function anyKeyNull(key: ParentKey, child: string): string {
  return key.columns.map((c) => `${child}.${qi(c)} IS NULL`).join(' OR ');
}

/** The key as the user reads it: `7`, or `(7, 3)` for a composite key; NULL parts are written NULL. */
export function keyText(key: ParentKey, child: string): string {
  if (key.columns.length === 1) return `${child}.${qi(key.columns[0]!)}::text`;
  return `'(' || concat_ws(', ', ${key.columns.map((c) => `coalesce(${child}.${qi(c)}::text, 'NULL')`).join(', ')}) || ')'`;
}

/** How the key reads in a rule's description: `credential_id`, or `(order_id, shop_id)`. */
export const keyLabel = (columns: readonly string[]) =>
  columns.length === 1 ? columns[0]! : `(${columns.join(', ')})`;

/** `no order_id, shop_id`: the key columns a row leaves NULL (for a row that has no parent because of them). */
export function nullColumnsText(key: ParentKey, child: string): string {
  return `'no ' || concat_ws(', ', ${key.columns.map((c) => `CASE WHEN ${child}.${qi(c)} IS NULL THEN ${`'${c.replace(/'/g, "''")}'`} END`).join(', ')})`;
}

/**
 * A mapping rule's key as one SQL value, for the (key, org) pairs and the assignment table: the column itself, or for
 * a composite key a jsonb array of its columns — NULL when any of them is NULL, so that it never matches.
 */
export function pairKey(columns: readonly string[], alias: string): string {
  if (columns.length === 1) return `${alias}.${qi(columns[0]!)}`;
  // Parenthesised: PL/pgSQL reads an IF's condition up to the first THEN outside parentheses.
  return `(CASE WHEN ${columns.map((c) => `${alias}.${qi(c)} IS NULL`).join(' OR ')} THEN NULL ELSE jsonb_build_array(${columns.map((c) => `${alias}.${qi(c)}`).join(', ')}) END)`;
}

/** The assignment table's key type: the column's, or jsonb for a composite key (see pairKey). */
export const pairKeyType = (types: readonly string[]) => (types.length === 1 ? types[0]! : 'jsonb');
