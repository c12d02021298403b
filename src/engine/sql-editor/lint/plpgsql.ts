// The SQL inside PL/pgSQL bodies (DO blocks, functions): the statements a block runs, in order, each marked when it
// runs under an IF (the block checked the catalog first), and every expression's text (for SECURITY DEFINER checks).

export interface BodyStatement {
  readonly query: string;
  readonly guarded: boolean;
  readonly condition?: string;
}

/** The SQL statements of a PL/pgSQL body as libpg-query's parsePlPgSQLSync gives it (dynamic EXECUTE is not seen). */
export function bodyStatements(parsed: unknown): BodyStatement[] {
  const out: BodyStatement[] = [];
  const walk = (node: unknown, guarded: boolean, condition?: string): void => {
    if (Array.isArray(node)) {
      for (const n of node) walk(n, guarded, condition);
      return;
    }
    if (!node || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
      if (key === 'PLpgSQL_stmt_execsql') {
        const query = (value as { sqlstmt?: { PLpgSQL_expr?: { query?: string } } }).sqlstmt?.PLpgSQL_expr?.query;
        if (query) out.push({ query, guarded, condition });
        continue;
      }
      if (key === 'PLpgSQL_stmt_if' || key === 'PLpgSQL_stmt_case') {
        const { cond, ...branches } = value as { cond?: { PLpgSQL_expr?: { query?: string } } };
        walk(branches, true, cond?.PLpgSQL_expr?.query);
        continue;
      }
      walk(value, guarded, condition);
    }
  };
  walk(parsed, false);
  return out;
}

/** Every SQL text in a PL/pgSQL body: statements as they are, expressions as SELECTs (parseable by parseSync). */
export function bodyQueries(parsed: unknown): string[] {
  const out: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const n of node) walk(n);
      return;
    }
    if (!node || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
      if (key === 'PLpgSQL_expr') {
        const { query, parseMode } = value as { query?: string; parseMode?: number };
        // parseMode 0: a statement; 2: an expression; 3-5: an assignment (`target := expression`).
        if (query && !parseMode) out.push(query);
        else if (query && parseMode === 2) out.push(`SELECT ${query}`);
        else if (query && parseMode !== undefined && parseMode >= 3)
          out.push(`SELECT ${query.replace(/^[^]*?:?=/, '')}`);
        continue;
      }
      walk(value);
    }
  };
  walk(parsed);
  return out;
}
