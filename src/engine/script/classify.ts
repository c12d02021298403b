// What kind of statement a piece of SQL is, from PostgreSQL's parse tree.
import { loadParser } from './parse';

/**
 * How a statement shares the server's oldest snapshot (the horizon VACUUM cleans up to and CONCURRENTLY builds wait
 * for) with statements running beside it on other sessions. `holds`: it keeps one snapshot for its whole run (a scan, a
 * DML, an ANALYZE); a DO block that commits its batches does not. `needs`: VACUUM frees only what is older than every
 * snapshot held when it starts; a CONCURRENTLY build waits, in each of its phases, for every older snapshot.
 */
export interface HorizonUse {
  readonly holds: boolean;
  readonly needs: 'none' | 'at-start' | 'throughout';
}

export interface StatementClass {
  readonly nodeType: string;
  readonly transaction: 'begin' | 'commit' | 'rollback' | undefined;
  readonly horizon: HorizonUse;
  readonly parseError?: string;
}

type Node = Record<string, unknown>;
type ParseSync = (sql: string) => { stmts?: { stmt?: Node }[] };

const hasOption = (options: unknown, name: string) =>
  Array.isArray(options) && options.some((o) => (o as { DefElem?: { defname?: string } }).DefElem?.defname === name);

export function horizonUse(nodeType: string, body: Node | undefined, sql: string): HorizonUse {
  switch (nodeType) {
    case 'VariableSetStmt':
    case 'TransactionStmt':
      return { holds: false, needs: 'none' };
    case 'DoStmt':
      // A block that commits as it goes (its COMMIT in the code, not in a comment) holds a snapshot for one batch at a time.
      return { holds: !/\bCOMMIT\s*;/i.test(sql.replace(/--[^\n]*/g, '')), needs: 'none' };
    case 'VacuumStmt':
      if (body?.is_vacuumcmd === false) return { holds: true, needs: 'none' }; // ANALYZE alone
      return { holds: hasOption(body?.options, 'analyze'), needs: 'at-start' };
    case 'IndexStmt':
      return body?.concurrent === true ? { holds: true, needs: 'throughout' } : { holds: true, needs: 'none' };
    case 'ReindexStmt':
      return hasOption(body?.params, 'concurrently')
        ? { holds: true, needs: 'throughout' }
        : { holds: true, needs: 'none' };
    default:
      return { holds: true, needs: 'none' };
  }
}

export function classifyWith(parseSync: ParseSync, sql: string): StatementClass {
  try {
    const stmt = parseSync(sql).stmts?.[0]?.stmt ?? {};
    const nodeType = Object.keys(stmt)[0] ?? 'Empty';
    const body = stmt[nodeType] as Node | undefined;
    let transaction: StatementClass['transaction'];
    if (nodeType === 'TransactionStmt') {
      const kind = (body as { kind?: string } | undefined)?.kind;
      if (kind === 'TRANS_STMT_BEGIN' || kind === 'TRANS_STMT_START') transaction = 'begin';
      else if (kind === 'TRANS_STMT_COMMIT') transaction = 'commit';
      else if (kind === 'TRANS_STMT_ROLLBACK') transaction = 'rollback';
    }
    return { nodeType, transaction, horizon: horizonUse(nodeType, body, sql) };
  } catch (e) {
    return {
      nodeType: 'Unparsed',
      transaction: undefined,
      horizon: { holds: true, needs: 'none' },
      parseError: (e as Error).message,
    };
  }
}

export async function statementClassifier(): Promise<(sql: string) => StatementClass> {
  const { parseSync } = await loadParser();
  return (sql) => classifyWith(parseSync as ParseSync, sql);
}
