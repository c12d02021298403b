// Once the application sets the org itself: drops the triggers that give rows written without one the default org.
import { finalize } from '../finalize';
import type { StepBody } from '../step-context';
import { plural } from '../../shared/format';

export const body: StepBody = async (context) => {
  const dropped = await finalize(context.session, await context.model());
  return {
    summary: `the help for applications that do not set ${context.spec.spec.orgColumn} is off (${plural(dropped, 'trigger')} dropped)`,
    checks: [],
  };
};
