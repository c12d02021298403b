// The validation checks: every row has its org, the constraints hold, the policies are in place.
import { validate } from '../validate';
import { failedChecks, type StepBody } from '../step-context';
import { formatCheckCount } from '../../shared/format';

export const body: StepBody = async (context) => {
  const checks = await validate(context.session, await context.model());
  const failures = failedChecks(checks);
  return {
    summary: formatCheckCount(checks),
    checks,
    next: failures.length
      ? 'Look at the failed checks; if the migration stopped early, run "migrate" again (it resumes), else roll back.'
      : undefined,
  };
};
