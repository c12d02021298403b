// The tenant isolation matrix: every table, operation and actor, as the application connects, on probe rows the
// tool writes itself (rolled back).
import type { CheckResult } from '../events';
import { verifyIsolation } from '../isolation';
import { verdict } from '../isolation/causes';
import type { StepBody } from '../step-context';

export const body: StepBody = async (context) => {
  const { probes, bypasses, leakingViews, probeTables } = await verifyIsolation(context.session, await context.model());
  const checks: CheckResult[] = [
    ...probes.map((p) => ({ name: `${p.table} ${p.operation} as ${p.actor}`, ok: p.ok, detail: p.expected === 'either' ? `${p.outcome} (the table's own policies decide within the org)` : `expected ${p.expected}, ${p.outcome}${p.ok ? '' : `: ${p.detail}`}` })),
    ...bypasses,
    { name: 'Probe rows', ok: true, detail: `two rows (one per probe org) written to each of ${probeTables.join(', ') || 'no table'} and rolled back: their triggers fired, their sequences advanced (nextval is not undone); nothing was committed` },
  ];
  const { summary, next } = verdict(probes, leakingViews);
  return { summary, checks, probes, next };
};
