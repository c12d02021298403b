// After sign-off: drops the backup tables.
import { cleanupBackups } from '../finalize';
import type { StepBody } from '../step-context';

export const body: StepBody = async (context) => {
  const dropped = await cleanupBackups(context.session);
  return { summary: `${dropped.length} backup table(s) dropped${dropped.length ? `: ${dropped.join(', ')}` : ''}`, checks: [] };
};
