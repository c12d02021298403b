// The run's report (Markdown, in .tenant-migration/reports), written whether the run succeeded or not.
import path from 'node:path';
import type { StepBody } from '../step-context';

export const body: StepBody = async (context, options) => {
  const reportPath = await context.writeReport(options.runStartedAt);
  return { summary: path.basename(reportPath), checks: [], reportPath };
};
