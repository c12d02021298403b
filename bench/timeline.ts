// What ran when: statement timings (from the engine's events or the naive runner), summed per phase, and the
// statement that was running when a writer op stalled.

export interface StatementTiming {
  readonly phase: string;
  readonly sql: string;
  readonly startEpochMs: number;
  readonly durationMs: number;
  readonly ok: boolean;
}

const ACTIONS =
  /\b(CREATE (?:UNIQUE )?INDEX(?: CONCURRENTLY)?(?: IF NOT EXISTS)? \S+ ON \S+|CREATE TABLE(?: IF NOT EXISTS)? \S+(?: AS TABLE \S+)?|CREATE (?:OR REPLACE )?(?:FUNCTION|TRIGGER) \S+|CREATE POLICY \S+ ON \S+|ALTER TABLE \S+ (?:ADD COLUMN(?: IF NOT EXISTS)? \S+|ADD CONSTRAINT \S+ \w+(?: \w+)?|VALIDATE CONSTRAINT \S+|ALTER COLUMN \S+ SET NOT NULL|DROP CONSTRAINT \S+|ENABLE ROW LEVEL SECURITY|FORCE ROW LEVEL SECURITY)|UPDATE \S+|INSERT INTO \S+|DELETE FROM \S+|VACUUM \(ANALYZE\) \S+|ANALYZE \S+|^\s*SET \w+|REVOKE \w+ ON (?:SCHEMA |FUNCTION )?\S+|DROP INDEX \S+|CREATE SCHEMA(?: IF NOT EXISTS)? \S+|LOCK TABLE \S+)/gm;
// The engine's own bookkeeping inside a DO block says less about it than the action around it.
const BOOKKEEPING = /tenant_migration\.(?:backfill|snapshot|backups|runs|steps|audit)\b/;

/** A one-line label for a statement: its first significant action (for a DO block, its actions on the tables). */
export function describeStatement(sql: string): string {
  const text = sql.replace(/"/g, '').replace(/\bpublic\./g, '');
  const isDo = /^\s*DO\b/.test(text);
  if (!isDo) {
    const m = text.match(ACTIONS);
    return (m?.[0] ?? text.trim().split('\n')[0]!.slice(0, 80)).trim().replace(/\s+/g, ' ').replace(/;$/, '');
  }
  const actions = [
    ...new Set((text.match(ACTIONS) ?? []).map((a) => a.trim().replace(/\s+/g, ' ').replace(/;$/, ''))),
  ].filter((a) => !BOOKKEEPING.test(a) && !a.startsWith('REVOKE'));
  if (actions.length === 0) return /RAISE EXCEPTION/.test(text) ? 'DO: preflight checks' : 'DO: (checks only)';
  return `DO: ${actions[0]}${actions.length > 1 ? `; ${actions[1]}` : ''}${actions.length > 2 ? ` (+${actions.length - 2})` : ''}`;
}

export interface PhaseTotal {
  readonly phase: string;
  readonly ms: number;
  readonly statements: number;
}

export function phaseTotals(statements: readonly StatementTiming[]): PhaseTotal[] {
  const totals = new Map<string, PhaseTotal>();
  for (const s of statements) {
    const t = totals.get(s.phase) ?? { phase: s.phase, ms: 0, statements: 0 };
    totals.set(s.phase, { phase: s.phase, ms: t.ms + s.durationMs, statements: t.statements + 1 });
  }
  return [...totals.values()];
}

/** The statement running at a moment (the latest one started before it that had not finished). */
export function runningAt(statements: readonly StatementTiming[], epochMs: number): StatementTiming | undefined {
  let found: StatementTiming | undefined;
  for (const s of statements) {
    if (s.startEpochMs <= epochMs && epochMs <= s.startEpochMs + s.durationMs + 5) found = s;
  }
  return found;
}
