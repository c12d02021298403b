// Runs the migration script, the team's or (when there is none) the one generated from the spec, written first.
import { runScript } from '../execute/runner';
import type { StepBody } from '../step-context';

export const body: StepBody = async (context) => {
  await context.assertCanWrite();
  await context.generate();
  const { text } = await context.scriptText();
  const result = await runScript(text, context.scriptRun('migrate'));
  return { summary: `${result.statements} statements, ${result.rows} rows written`, rows: result.rows, checks: [] };
};
