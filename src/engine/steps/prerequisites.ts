// Step 0: the connection, the server, privileges, objects, the mapping and the space, checked before anything runs.
import { preflight } from '../preflight';
import { failedChecks, type StepBody } from '../step-context';
import { formatCheckCount } from '../../shared/format';

export const body: StepBody = async (context) => {
  const checks = await preflight(context.session, await context.model(), () => context.gaps({ quick: true }));
  const failures = failedChecks(checks);
  return {
    summary: formatCheckCount(checks),
    checks,
    next: failures.length ? `Fix: ${failures.map((c) => c.name).join(', ')}; then run again.` : undefined,
  };
};
