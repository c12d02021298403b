// The spec's query, with every relation, function and type it names resolved to its schema at generation time:
// inside the org trigger (SECURITY DEFINER, search_path = pg_catalog, pg_temp) no name is looked up again, so no
// temp table, temp view or object in a schema another role can create in can stand in for the ones meant.
import type { Session } from '../db/session';
import { quoteIdent, type QualifiedName } from '../db/sql';
import { usageError } from '../errors';
import { loadParser } from './parse';

type Resolved = Required<QualifiedName>;
type NameKind = 'relation' | 'function' | 'type';

interface NameUse {
  readonly kind: NameKind;
  readonly name: string;
  readonly location: number;
}

export interface QualifiedQuery {
  /** The query with a schema written before every name that was not one already (names in pg_catalog stay as they are). */
  readonly sql: string;
  /** The relations it reads, for the grants of the role the trigger runs as. */
  readonly relations: Resolved[];
}

type Node = Record<string, unknown>;
const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null;
const strings = (list: unknown): string[] =>
  Array.isArray(list) ? list.map((n) => (n as { String?: { sval?: string } }).String?.sval ?? '') : [];

/** Names without a schema, outside the CTEs in scope (a CTE is named by its own, unqualified name). */
export function unqualifiedNames(tree: unknown): NameUse[] {
  const uses: NameUse[] = [];
  const walk = (node: unknown, ctes: ReadonlySet<string>): void => {
    if (Array.isArray(node)) {
      for (const n of node) walk(n, ctes);
      return;
    }
    if (!isNode(node)) return;
    let scope = ctes;
    const withClause = node.withClause as { ctes?: { CommonTableExpr?: { ctename?: string } }[] } | undefined;
    if (withClause?.ctes) scope = new Set([...ctes, ...withClause.ctes.map((c) => c.CommonTableExpr?.ctename ?? '')]);
    const range = node.RangeVar as { schemaname?: string; relname: string; location: number } | undefined;
    if (range && !range.schemaname && !scope.has(range.relname))
      uses.push({ kind: 'relation', name: range.relname, location: range.location });
    const call = node.FuncCall as { funcname?: unknown; location: number } | undefined;
    if (call && strings(call.funcname).length === 1)
      uses.push({ kind: 'function', name: strings(call.funcname)[0]!, location: call.location });
    const type = node.TypeName as { names?: unknown; location: number } | undefined;
    if (type && strings(type.names).length === 1)
      uses.push({ kind: 'type', name: strings(type.names)[0]!, location: type.location });
    for (const value of Object.values(node)) walk(value, scope);
  };
  walk(tree, new Set());
  return uses;
}

/** Refuses anything but one SELECT (checked by the parser, not by looking for semicolons). */
async function parseOneSelect(sql: string, field: string): Promise<unknown> {
  const { parseSync } = await loadParser();
  let tree: { stmts?: { stmt: Node }[] };
  try {
    tree = parseSync(sql) as typeof tree;
  } catch (e) {
    throw usageError(
      `The query in ${field} does not parse: ${(e as Error).message}`,
      'Write one SELECT returning key and org_id.',
    );
  }
  const stmts = tree.stmts ?? [];
  if (stmts.length !== 1 || !('SelectStmt' in stmts[0]!.stmt)) {
    throw usageError(
      `The query in ${field} must be exactly one SELECT (found ${stmts.length === 1 ? Object.keys(stmts[0]!.stmt)[0] : `${stmts.length} statements`})`,
      'Write one SELECT returning key and org_id, without a second statement.',
    );
  }
  const select = stmts[0]!.stmt.SelectStmt as Node;
  if (select.intoClause)
    throw usageError(
      `The query in ${field} must not be SELECT … INTO (it creates a table)`,
      'Write a plain SELECT returning key and org_id.',
    );
  return tree;
}

/** The schema PostgreSQL finds a name in with the operator's search_path; pg_catalog is searched first in the trigger too. */
async function schemaOf(session: Session, use: NameUse): Promise<{ schema: string; temp: boolean } | undefined> {
  const sql = {
    relation: `SELECT n.nspname AS schema, n.oid = pg_my_temp_schema() AS temp FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)`,
    type: `SELECT n.nspname AS schema, n.oid = pg_my_temp_schema() AS temp FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.oid = to_regtype($1)`,
    // Functions are never looked up in pg_temp; the first schema of the path that has one of that name is the one.
    function: `SELECT s.schema, false AS temp FROM unnest(current_schemas(true)) WITH ORDINALITY AS s(schema, o)
                WHERE EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = s.schema AND p.proname = $1)
                  AND s.schema::regnamespace <> pg_my_temp_schema() ORDER BY s.o LIMIT 1`,
  }[use.kind];
  const { rows } = await session.query<{ schema: string; temp: boolean }>(sql, [
    use.kind === 'function' ? use.name : quoteIdent(use.name),
  ]);
  return rows[0];
}

/** UTF-8 byte offset (the parser's locations) to a string index. */
function charIndex(text: string, byteOffset: number): number {
  return Buffer.from(text).subarray(0, byteOffset).toString('utf8').length;
}

/** A type as SQL text that names its schema unless it is in pg_catalog (format_type leaves out a schema on the search_path). */
export async function qualifiedType(session: Session, type: string): Promise<string> {
  const { rows } = await session.query<{ schema: string; temp: boolean; oid: number }>(
    `SELECT n.nspname AS schema, n.oid = pg_my_temp_schema() AS temp, t.oid::int AS oid FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.oid = to_regtype($1)`,
    [type],
  );
  const found = rows[0];
  if (!found || found.schema === 'pg_catalog') return type;
  if (found.temp)
    throw usageError(`The type ${type} is a temporary type of this session`, 'Use a type of a real schema.');
  return session.transaction(async () => {
    await session.query(`SET LOCAL search_path = pg_catalog`);
    return (await session.query<{ t: string }>(`SELECT format_type($1, NULL) AS t`, [found.oid])).rows[0]!.t;
  });
}

export async function qualifyQuery(session: Session, sql: string, field: string): Promise<QualifiedQuery> {
  const uses = unqualifiedNames(await parseOneSelect(sql, field));
  const inserts: { at: number; text: string }[] = [];
  const relations: Resolved[] = [];
  const catalogRelations = new Set<string>();
  for (const use of uses) {
    const found = await schemaOf(session, use);
    if (found?.temp)
      throw usageError(
        `The query in ${field} names ${use.name}, which is a temporary ${use.kind} of this session`,
        'Name the real object with its schema (schema.name).',
      );
    if (use.kind === 'relation' && !found)
      throw usageError(
        `The query in ${field} reads ${use.name}, which does not exist on the search_path`,
        'Create it, or write its schema (schema.name).',
      );
    if (found?.schema === 'pg_catalog' && use.kind === 'relation') catalogRelations.add(use.name);
    if (!found || found.schema === 'pg_catalog') continue;
    if (use.kind === 'relation') relations.push({ schema: found.schema, name: use.name });
    inserts.push({ at: charIndex(sql, use.location), text: `${quoteIdent(found.schema)}.` });
  }
  let out = sql;
  for (const insert of inserts.sort((a, b) => b.at - a.at))
    out = out.slice(0, insert.at) + insert.text + out.slice(insert.at);
  const rewritten = await parseOneSelect(out, field);
  const left = unqualifiedNames(rewritten).filter((u) => u.kind === 'relation' && !catalogRelations.has(u.name));
  if (left.length > 0)
    throw usageError(
      `The query in ${field} could not be schema-qualified (${left.map((u) => u.name).join(', ')})`,
      'Write every table it reads as schema.table.',
    );
  return { sql: out, relations: dedupe([...relations, ...(await qualifiedRelations(session, rewritten))]) };
}

/** Relations the query already named with their schema. */
async function qualifiedRelations(session: Session, tree: unknown): Promise<Resolved[]> {
  const out: Resolved[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(walk);
      return;
    }
    if (!isNode(node)) return;
    const range = node.RangeVar as { schemaname?: string; relname: string } | undefined;
    if (range?.schemaname && range.schemaname !== 'pg_catalog')
      out.push({ schema: range.schemaname, name: range.relname });
    Object.values(node).forEach(walk);
  };
  walk(tree);
  const existing: Resolved[] = [];
  for (const r of out) {
    const { rows } = await session.query(
      `SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
      [r.schema, r.name],
    );
    if (rows.length > 0) existing.push(r);
  }
  return existing;
}

function dedupe(list: Resolved[]): Resolved[] {
  const seen = new Set<string>();
  return list.filter((r) => {
    const k = `${r.schema}\0${r.name}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
