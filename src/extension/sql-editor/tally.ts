// The checks of a file, counted: "12 checks: 11 ✓ 1 ✗" (and how many have not run yet).
import type { DocumentStatement } from '../../engine/sql-editor/document';
import type { Outcome } from './results';

export interface Tally {
  readonly total: number;
  readonly passed: number;
  readonly failed: number;
  readonly notRun: number;
  readonly title: string;
}

export function checkTally(
  statements: readonly DocumentStatement[],
  outcomeOf: (text: string) => Outcome | undefined,
): Tally {
  let total = 0;
  let passed = 0;
  let failed = 0;
  for (const s of statements) {
    if (s.item.kind !== 'sql' || !s.expectation || 'error' in s.expectation) continue;
    total++;
    const outcome = outcomeOf(s.item.text);
    const check = outcome && outcome.state !== 'running' ? outcome.check : undefined;
    if (check?.ok) passed++;
    else if (check) failed++;
  }
  const notRun = total - passed - failed;
  const parts = [`${passed} ✓`, `${failed} ✗`, ...(notRun ? [`${notRun} not run`] : [])];
  return { total, passed, failed, notRun, title: `${total} check${total === 1 ? '' : 's'}: ${parts.join(' ')}` };
}
