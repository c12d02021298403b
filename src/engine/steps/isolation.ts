// The tenant isolation matrix: every table, operation and actor, as the application connects.
import type { CheckResult } from '../events';
import { verifyIsolation } from '../isolation';
import type { StepBody } from '../step-context';

export const body: StepBody = async (context) => {
  const { probes, bypasses } = await verifyIsolation(context.session, await context.model());
  const checks: CheckResult[] = [
    ...probes.map((p) => ({ name: `${p.table} ${p.operation} as ${p.actor}`, ok: p.ok, detail: p.expected === 'either' ? `${p.outcome} (the table's own policies decide within the org)` : `expected ${p.expected}, ${p.outcome}${p.ok ? '' : `: ${p.detail}`}` })),
    ...bypasses,
  ];
  const failures = probes.filter((p) => !p.ok).length;
  return {
    summary: failures === 0 ? `${probes.length} probes held` : `${failures} of ${probes.length} probes failed`, checks, probes,
    next: failures ? 'A tenant can reach another tenant\'s rows: do not open the system; roll back or fix the policies named.' : undefined,
  };
};
