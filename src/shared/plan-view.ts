// The plan preview's view model, derived from the engine's Plan. Pure: no 'vscode', no DOM, no I/O.
// PlanSource is the engine's `Plan` as a structural type, so shared code needs nothing from the engine at run time
// (and the webview's type check never reaches into the engine); the test checks that a `Plan` is a PlanSource.
import type { FindingView, LockView, PhaseView, PlanView, StatementView, TableGapsView } from './protocol';

type FindingKind = FindingView['kind'];

export interface PlanSource {
  readonly scriptPath: string;
  readonly scriptExists: boolean;
  readonly statements: readonly {
    readonly line: number;
    readonly phase?: string;
    readonly sql: string;
    readonly locks: readonly {
      readonly table: string;
      readonly mode: LockView['mode'];
      readonly blocksWrites: boolean;
      readonly note?: string;
    }[];
  }[];
  readonly tables: readonly { readonly table: string; readonly estimatedRows: number; readonly totalBytes: number }[];
  readonly gaps: {
    readonly tables: readonly {
      readonly table: string;
      readonly rule: string;
      readonly rows: number;
      readonly assigned: number;
      readonly toDefault: number;
      readonly estimated: boolean;
    }[];
    readonly findings: readonly {
      readonly kind: FindingKind;
      readonly table: string;
      readonly count: number;
      /** The engine types `key` as a string, but a row without a key reports SQL NULL. */
      readonly samples: readonly { readonly key: string | null; readonly detail?: string }[];
      readonly blocking: boolean;
      readonly message: string;
    }[];
    readonly blocking: boolean;
    /** A first answer's exact checks still running. */
    readonly pending?: readonly string[];
  };
  /** The schema's shapes: refused ones block the run like a conflict does. */
  readonly shapes?: readonly {
    readonly table: string;
    readonly object: string;
    readonly blocking: boolean;
    readonly message: string;
    readonly fix?: string;
  }[];
}

const PHASE_TITLES: Readonly<Record<string, string>> = {
  prepare: 'Prepare: state schema and preflight',
  backup: 'Back up every table',
  columns: 'Add org_id and the assignment triggers',
  backfill: 'Backfill org_id in committed batches',
  constraints: 'NOT NULL and foreign keys',
  indexes: 'Indexes, built concurrently',
  ledger: 'Tenant credentials ledger',
  rls: 'Row-level security and policies',
  vacuum: 'VACUUM (ANALYZE)',
};

export function phaseTitle(phase: string | null): string {
  if (phase === null) return 'Session settings';
  return PHASE_TITLES[phase] ?? phase.charAt(0).toUpperCase() + phase.slice(1).replace(/[-_]/g, ' ');
}

const FINDINGS: Readonly<Record<FindingKind, { title: string; severity: 'warning' | 'info'; advice: string }>> = {
  conflict: {
    title: 'Key mapped to two orgs',
    severity: 'warning',
    advice:
      'Keep one mapping row per key (delete the wrong ones), then refresh. The run refuses until every key maps to one org.',
  },
  'missing-org': {
    title: 'Mapping to an org that does not exist',
    severity: 'warning',
    advice: 'Create the org in the orgs table, or point these mapping rows at an existing org, then refresh.',
  },
  unmapped: {
    title: 'Rows without a mapping',
    severity: 'warning',
    advice:
      'They will belong to the default org. To assign them, write a mapping stub, fill in each org and run it, then refresh.',
  },
  'orphan-child': {
    title: 'Rows without a parent row',
    severity: 'warning',
    advice: 'They will belong to the default org. Fix the reference to the parent row if they belong to another org.',
  },
  'null-key': {
    title: 'Rows without a key',
    severity: 'warning',
    advice: 'They will belong to the default org.',
  },
  'stale-mapping': {
    title: 'Mapping rows for rows that no longer exist',
    severity: 'info',
    advice: 'Ignored by the migration; delete them from the mapping table when convenient.',
  },
  'duplicate-mapping': {
    title: 'Identical duplicate mapping rows',
    severity: 'info',
    advice: 'Harmless: each key still maps to one org.',
  },
  'schema-shape': {
    title: 'Schema shape',
    severity: 'info',
    advice: 'See docs/what-it-can-migrate.md.',
  },
};

/** A shape of the schema as a finding of its table: refused ones are errors that block the run. */
function shapeView(s: NonNullable<PlanSource['shapes']>[number]): FindingView {
  return {
    kind: 'schema-shape',
    title: `${FINDINGS['schema-shape'].title}: ${s.object}`,
    severity: s.blocking ? 'error' : s.fix ? 'warning' : 'info',
    count: 1,
    samples: [],
    blocking: s.blocking,
    message: s.message,
    advice: s.fix ?? FINDINGS['schema-shape'].advice,
  };
}

function lockView(l: PlanSource['statements'][number]['locks'][number]): LockView {
  return l.note === undefined || l.note === ''
    ? { table: l.table, mode: l.mode, blocksWrites: l.blocksWrites }
    : { table: l.table, mode: l.mode, blocksWrites: l.blocksWrites, note: l.note };
}

function phasesOf(plan: PlanSource): PhaseView[] {
  const phases: PhaseView[] = [];
  let current: PhaseView | undefined;
  plan.statements.forEach((s, index) => {
    const phase = s.phase ?? null;
    if (!current || current.phase !== phase) {
      current = {
        id: `${index}-${phase ?? 'session'}`,
        phase,
        title: phaseTitle(phase),
        statements: [],
        blockingStatements: 0,
        tables: [],
      };
      phases.push(current);
    }
    const statement: StatementView = {
      index,
      line: s.line,
      sql: s.sql,
      kind: s.sql.trimStart().startsWith('\\') ? 'psql' : 'sql',
      locks: s.locks.map(lockView),
    };
    current.statements.push(statement);
    if (statement.locks.some((l) => l.blocksWrites)) current.blockingStatements++;
    for (const l of statement.locks) if (!current.tables.includes(l.table)) current.tables.push(l.table);
  });
  return phases;
}

type RuleKind = TableGapsView['ruleKind'];

/** The engine describes a rule as "mapping <table> by <column>", "parent <table> via <column>" or "query by <column>". */
function ruleKindOf(rule: string): RuleKind {
  const word = rule.split(' ', 1)[0];
  return word === 'mapping' || word === 'parent' || word === 'query' ? word : 'unknown';
}

/** Rows a query places nowhere cannot be fixed with a mapping stub: the query itself must return them. */
const UNMAPPED_BY_QUERY =
  'They will belong to the default org. To assign them, make the spec’s query return an org for each of these keys, then refresh.';

function findingView(f: PlanSource['gaps']['findings'][number], ruleKind: RuleKind): FindingView {
  const known = FINDINGS[f.kind];
  return {
    kind: f.kind,
    title: known.title,
    severity: f.blocking ? 'error' : known.severity,
    count: f.count,
    samples: f.samples.map((s) =>
      typeof s.detail === 'string' ? { key: s.key ?? null, detail: s.detail } : { key: s.key ?? null },
    ),
    blocking: f.blocking,
    message: f.message,
    advice: f.kind === 'unmapped' && ruleKind === 'query' ? UNMAPPED_BY_QUERY : known.advice,
  };
}

/** Groups the gap report by table, in the report's order; a finding for a table without counts still gets a group. */
function gapTables(gaps: PlanSource['gaps'], shapes: NonNullable<PlanSource['shapes']> = []): TableGapsView[] {
  const groups = new Map<string, TableGapsView>();
  for (const t of gaps.tables) {
    groups.set(t.table, {
      table: t.table,
      ruleKind: ruleKindOf(t.rule),
      assignment: { rule: t.rule, rows: t.rows, assigned: t.assigned, toDefault: t.toDefault, estimated: t.estimated },
      findings: [],
    });
  }
  for (const f of gaps.findings) {
    let group = groups.get(f.table);
    if (!group) groups.set(f.table, (group = { table: f.table, ruleKind: 'unknown', assignment: null, findings: [] }));
    group.findings.push(findingView(f, group.ruleKind));
  }
  // Within a table: blocking findings first, then warnings, then notes; otherwise the engine's order (sort is stable).
  const rank = { error: 0, warning: 1, info: 2 } as const;
  for (const s of shapes) {
    let group = groups.get(s.table);
    if (!group) groups.set(s.table, (group = { table: s.table, ruleKind: 'unknown', assignment: null, findings: [] }));
    group.findings.push(shapeView(s));
  }
  for (const group of groups.values()) group.findings.sort((a, b) => rank[a.severity] - rank[b.severity]);
  return [...groups.values()];
}

/** The serialisable view of a plan that the host posts to the webview. Keeps every statement and every finding. */
export function toPlanView(plan: PlanSource): PlanView {
  return {
    scriptPath: plan.scriptPath,
    scriptExists: plan.scriptExists,
    phases: phasesOf(plan),
    tables: plan.tables.map((t) => ({
      table: t.table,
      estimatedRows: Math.max(0, t.estimatedRows),
      totalBytes: Math.max(0, t.totalBytes),
    })),
    gaps: {
      tables: gapTables(plan.gaps, plan.shapes),
      blocking:
        plan.gaps.blocking || plan.gaps.findings.some((f) => f.blocking) || (plan.shapes ?? []).some((s) => s.blocking),
      ...(plan.gaps.pending?.length ? { pending: [...plan.gaps.pending] } : {}),
    },
  };
}
