// The table locks a statement takes, read from PostgreSQL's parse tree (parsed lazily, statement by statement).
import type { MigrationModel } from '../model';
import { displayName, quoteQualified } from '../db/sql';

export type LockMode =
  'ACCESS SHARE' | 'ROW EXCLUSIVE' | 'SHARE UPDATE EXCLUSIVE' | 'SHARE' | 'SHARE ROW EXCLUSIVE' | 'ACCESS EXCLUSIVE';

export interface LockInfo {
  readonly table: string;
  readonly mode: LockMode;
  /** Blocks the application's reads or writes while held. */
  readonly blocksWrites: boolean;
  readonly note?: string;
}

type Node = Record<string, unknown>;
const BLOCKS_WRITES: ReadonlySet<LockMode> = new Set(['SHARE', 'SHARE ROW EXCLUSIVE', 'ACCESS EXCLUSIVE']);

export type ParseSync = (sql: string) => { stmts?: { stmt?: Node }[] };

function parseTree(parseSync: ParseSync, sql: string): Node | undefined {
  try {
    return parseSync(sql).stmts?.[0]?.stmt;
  } catch {
    return undefined;
  }
}

function rangeVarName(node: unknown): string | undefined {
  const rv = node as { relname?: string; schemaname?: string } | undefined;
  return rv?.relname ? displayName({ schema: rv.schemaname, name: rv.relname }) : undefined;
}

function alterTableMode(cmds: Node[]): { mode: LockMode; note?: string } {
  const subtypes = cmds.map((c) => c.AlterTableCmd as { subtype?: string; def?: Node } | undefined);
  const weakest: LockMode[] = subtypes.map((c) => {
    switch (c?.subtype) {
      case 'AT_ValidateConstraint':
        return 'SHARE UPDATE EXCLUSIVE';
      case 'AT_AddConstraint': {
        const con = c.def?.Constraint as { contype?: string; skip_validation?: boolean } | undefined;
        if (con?.contype === 'CONSTR_FOREIGN') return 'SHARE ROW EXCLUSIVE';
        return 'ACCESS EXCLUSIVE';
      }
      default:
        return 'ACCESS EXCLUSIVE';
    }
  });
  const order: LockMode[] = [
    'ACCESS SHARE',
    'ROW EXCLUSIVE',
    'SHARE UPDATE EXCLUSIVE',
    'SHARE',
    'SHARE ROW EXCLUSIVE',
    'ACCESS EXCLUSIVE',
  ];
  const mode = weakest.reduce<LockMode>((a, b) => (order.indexOf(b) > order.indexOf(a) ? b : a), 'ACCESS SHARE');
  const note = subtypes.map((c) => c?.subtype?.replace(/^AT_/, '')).join(', ');
  return { mode, note };
}

const PHASE_LOCKS: Record<string, { mode: LockMode; note: string }> = {
  backup: { mode: 'ACCESS SHARE', note: 'copies the table; writes continue' },
  columns: { mode: 'ROW EXCLUSIVE', note: 'builds the assignments' },
  backfill: { mode: 'ROW EXCLUSIVE', note: 'batches of rows, each committed: row locks held for one batch only' },
  constraints: {
    mode: 'SHARE UPDATE EXCLUSIVE',
    note: 'validation does not block writes; SET NOT NULL takes a brief ACCESS EXCLUSIVE lock (no scan)',
  },
  indexes: { mode: 'ACCESS EXCLUSIVE', note: 'drops an INVALID index left by an interrupted build, if any' },
  ledger: { mode: 'SHARE ROW EXCLUSIVE', note: 'foreign keys NOT VALID, then validated' },
  rls: { mode: 'ACCESS EXCLUSIVE', note: 'brief: enables row-level security and creates the policies' },
};

export function describeLocks(parseSync: ParseSync, sql: string, model: MigrationModel, phase?: string): LockInfo[] {
  const tree = parseTree(parseSync, sql);
  if (!tree) return [];
  const [type] = Object.keys(tree);
  const body = tree[type!] as Node;
  const lock = (table: string | undefined, mode: LockMode, note?: string): LockInfo[] =>
    table ? [{ table, mode, blocksWrites: BLOCKS_WRITES.has(mode), note }] : [];
  switch (type) {
    case 'AlterTableStmt': {
      const { mode, note } = alterTableMode((body.cmds as Node[]) ?? []);
      return lock(rangeVarName(body.relation), mode, note);
    }
    case 'IndexStmt': {
      // ON ONLY (a partitioned table's own index, its partitions' built and attached apart): no build, a brief lock.
      const only = (body.relation as Node | undefined)?.inh !== true;
      return lock(
        rangeVarName(body.relation),
        body.concurrent ? 'SHARE UPDATE EXCLUSIVE' : 'SHARE',
        body.concurrent
          ? 'CONCURRENTLY'
          : only
            ? 'ON ONLY: no build, a brief lock'
            : 'blocks writes for the whole build',
      );
    }
    case 'CreateTrigStmt':
      return lock(rangeVarName(body.relation), 'SHARE ROW EXCLUSIVE');
    case 'CreatePolicyStmt':
    case 'DropPolicyStmt':
      return lock(rangeVarName(body.table), 'ACCESS EXCLUSIVE');
    case 'UpdateStmt':
    case 'DeleteStmt':
    case 'InsertStmt':
      return lock(rangeVarName(body.relation), 'ROW EXCLUSIVE');
    case 'VacuumStmt':
      return ((body.rels as Node[]) ?? []).flatMap((r) =>
        lock(rangeVarName((r.VacuumRelation as Node).relation), 'SHARE UPDATE EXCLUSIVE'),
      );
    case 'DoStmt': {
      const touched = model.tables.filter((t) => sql.includes(quoteQualified(t.name)));
      const known = phase ? PHASE_LOCKS[phase] : undefined;
      return touched.flatMap((t) =>
        lock(
          displayName(t.name),
          known?.mode ?? 'ROW EXCLUSIVE',
          known?.note ?? 'PL/pgSQL block: locks depend on its statements',
        ),
      );
    }
    default:
      return [];
  }
}
