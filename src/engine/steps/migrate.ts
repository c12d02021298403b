// Runs the migration script, the team's or (when there is none) the one generated from the spec, written first.
import { runScript } from '../execute/runner';
import type { StepBody } from '../step-context';
import { plural } from '../../shared/format';

export const body: StepBody = async (context) => {
  await context.assertCanWrite();
  await context.generate();
  const { text } = await context.scriptText();
  const result = await runScript(text, context.scriptRun('migrate'));
  return { summary: `${plural(result.statements, 'statement')}, ${plural(result.rows, 'row')} written`, rows: result.rows, checks: [] };
};
