// Runs the migration script, the team's or (when there is none) the one generated from the spec, written first.
import { runScript } from '../execute/runner';
import type { StepBody } from '../step-context';
import { formatCount, plural } from '../../shared/format';

export const body: StepBody = async (context) => {
  await context.assertCanWrite();
  await context.generate();
  const { text } = await context.scriptText();
  const result = await runScript(text, context.scriptRun('migrate'));
  const rows = result.backfilled.reduce((n, b) => n + b.rows, 0);
  const perTable = result.backfilled
    .filter((b) => b.rows > 0)
    .map((b) => `${b.table} ${formatCount(b.rows)}`)
    .join(', ');
  return {
    summary: `${plural(result.statements, 'statement')}; ${plural(rows, 'row')} given their org by the backfill${perTable ? ` (${perTable})` : ''}`,
    rows,
    checks: [],
  };
};
