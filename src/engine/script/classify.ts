// What kind of statement a piece of SQL is, from PostgreSQL's parse tree.
import { loadParser } from './parse';

export interface StatementClass {
  readonly nodeType: string;
  readonly transaction: 'begin' | 'commit' | 'rollback' | undefined;
  readonly parseError?: string;
}

type ParseSync = (sql: string) => { stmts?: { stmt?: Record<string, unknown> }[] };

export function classifyWith(parseSync: ParseSync, sql: string): StatementClass {
  try {
    const stmt = parseSync(sql).stmts?.[0]?.stmt ?? {};
    const nodeType = Object.keys(stmt)[0] ?? 'Empty';
    let transaction: StatementClass['transaction'];
    if (nodeType === 'TransactionStmt') {
      const kind = (stmt.TransactionStmt as { kind?: string }).kind;
      if (kind === 'TRANS_STMT_BEGIN' || kind === 'TRANS_STMT_START') transaction = 'begin';
      else if (kind === 'TRANS_STMT_COMMIT') transaction = 'commit';
      else if (kind === 'TRANS_STMT_ROLLBACK') transaction = 'rollback';
    }
    return { nodeType, transaction };
  } catch (e) {
    return { nodeType: 'Unparsed', transaction: undefined, parseError: (e as Error).message };
  }
}

export async function statementClassifier(): Promise<(sql: string) => StatementClass> {
  const { parseSync } = await loadParser();
  return (sql) => classifyWith(parseSync as ParseSync, sql);
}
