// What the plan preview says about its two answers: a first one (estimates, exact blocking checks still running) and
// the exact one. Run waits for the exact one.

interface AnsweredGaps {
  readonly blocking: boolean;
  /** A first answer's exact blocking checks still running. */
  readonly pending?: readonly string[];
}

export const isFirstAnswer = (gaps: AnsweredGaps): boolean => (gaps.pending?.length ?? 0) > 0;

/** Under a large table's estimated counts: in a first answer nothing about conflicts or missing orgs is exact yet. */
export function estimateNote(gaps: AnsweredGaps): string {
  return isFirstAnswer(gaps)
    ? 'Estimated from a sample of this large table. Conflicts and missing orgs are being checked over every row; the plan updates when that answers.'
    : 'Estimated from a sample of this large table. Conflicts and missing orgs are always counted exactly; tenant-migrate plan --exact counts every row.';
}

export function runTitle(gaps: AnsweredGaps | undefined): string {
  if (gaps?.blocking) return 'Resolve the blocking mapping gaps first';
  if (gaps && isFirstAnswer(gaps))
    return 'Waiting for the exact checks over every row: Run is offered when they find nothing blocking';
  return 'Tenant Migration: Run (prerequisites, backup, migrate, validate, verify isolation)';
}
