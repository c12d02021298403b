// Step 1 inside a run: the plan and its mapping gaps, recorded like any step (nothing is written).
import type { CheckResult } from '../events';
import type { StepBody } from '../step-context';
import { plural } from '../../shared/format';

export const body: StepBody = async (context) => {
  const plan = await context.plan();
  const toDefault = plan.gaps.tables.reduce((n, t) => n + t.toDefault, 0);
  const checks: CheckResult[] = plan.gaps.findings.map((f) =>
    f.blocking
      ? { name: `${f.table}: ${f.kind}`, ok: false, detail: f.message, severity: 'error' }
      : { name: `${f.table}: ${f.kind}`, ok: true, detail: f.message },
  );
  const about = plan.gaps.tables.some((t) => t.estimated) ? 'about ' : '';
  return {
    summary: `${plural(plan.statements.length, 'statement')}; ${about}${plural(toDefault, 'row')} ${toDefault === 1 ? 'gets' : 'get'} the default org`,
    checks,
  };
};
