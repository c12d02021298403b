// After sign-off: drops the backup tables.
import { cleanupBackups } from '../finalize';
import type { StepBody } from '../step-context';
import { plural } from '../../shared/format';

export const body: StepBody = async (context) => {
  const dropped = await cleanupBackups(context.session);
  return {
    summary: `${plural(dropped.length, 'backup table')} dropped${dropped.length ? `: ${dropped.join(', ')}` : ''}`,
    checks: [],
  };
};
