// The tenant isolation matrix: every table, operation and actor, as the application connects, on probe rows the
// tool writes itself (rolled back); the roles named as cross-tenant still see what they saw; the mode it holds in.
import { crossTenantChecks } from '../cross-tenant-check';
import { contextAdvice, currentEnforcement } from '../enforce';
import type { CheckResult } from '../events';
import { verifyIsolation } from '../isolation';
import { verdict } from '../isolation/causes';
import { actorLabel } from '../isolation/matrix';
import type { StepBody } from '../step-context';

export const body: StepBody = async (context) => {
  const model = await context.model();
  const enforced = !!(await currentEnforcement(context.session));
  const { probes, bypasses, leakingViews, probeTables, escapingRoles } = await verifyIsolation(
    context.session,
    model,
    enforced ? 'enforced' : 'transition',
  );
  const transition: CheckResult[] = enforced
    ? []
    : [
        {
          name: 'Transition mode',
          ok: true,
          severity: 'warning',
          detail: `requests without a tenant context keep their pre-migration access until "tenant-migrate enforce --app-sends-context"; first make sure ${contextAdvice(model)}`,
        },
      ];
  const checks: CheckResult[] = [
    ...probes.map((p) => ({
      name: `${p.table} ${p.operation} as ${actorLabel(p)}`,
      ok: p.ok,
      detail:
        p.expected === 'either'
          ? `${p.outcome} (the table's own policies decide within the org)`
          : `expected ${p.expected}, ${p.outcome}${p.ok ? '' : `: ${p.detail}`}`,
    })),
    ...bypasses,
    ...(await crossTenantChecks(context.session, model)),
    ...transition,
    {
      name: 'Probe rows',
      ok: true,
      detail: `two rows (one per probe org) written to each of ${probeTables.join(', ') || 'no table'} and rolled back: their triggers fired; identity and serial columns got values of their own, so no id was used up; nothing was committed`,
    },
  ];
  const { summary, next } = verdict(probes, leakingViews, escapingRoles);
  return { summary, checks, probes, next };
};
