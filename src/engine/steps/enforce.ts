// Step 5b: enforce isolation (or, with undo, go back to transition mode): what it denies, what it changed, audited.
import { contextAdvice, currentEnforcement, enforce, enforceRemaining, undoEnforce } from '../enforce';
import { appendAudit } from '../state';
import type { StepBody } from '../step-context';
import { plural } from '../../shared/format';

export const body: StepBody = async (context, options) => {
  const { session } = context;
  const m = await context.model();
  const run = context.scriptRun('enforce').run;
  const audit = async (actions: string[]) => {
    for (const statement of actions) {
      await appendAudit(session, run, { step: 'enforce', statement, outcome: 'ok' }).catch((e: unknown) =>
        context.warn({
          name: 'Audit',
          detail: `the audit row for "${statement.slice(0, 80)}" could not be written: ${(e as Error).message}`,
        }),
      );
    }
  };
  if (options.undo) {
    const actions = await session.transaction(async () => {
      await session.query(`SET LOCAL lock_timeout = '${m.loaded.spec.lockTimeoutMs * 5}ms'`);
      return undoEnforce(session, m);
    });
    await audit(actions);
    return actions.length === 0
      ? { status: 'skipped', summary: 'isolation was not enforced: nothing to undo', checks: [] }
      : {
          summary: `back to transition mode: requests without a tenant context keep their pre-migration access (${plural(actions.length, 'statement')})`,
          checks: [],
        };
  }
  if (await currentEnforcement(session)) {
    const remaining = await enforceRemaining(session, m);
    await audit(remaining.actions);
    return remaining.tables.length === 0
      ? { status: 'skipped', summary: 'isolation is already enforced on every table and partition', checks: [] }
      : {
          summary: `isolation was enforced already; now also on ${remaining.tables.join(', ')} (enforced policy, FORCE on)`,
          checks: [],
        };
  }
  const { actions, preview } = await enforce(session, m, {
    appSendsContext: options.appSendsContext,
    now: options.now,
  });
  await audit(actions);
  return {
    summary: `enforced on ${plural(m.tables.length, 'table')}: requests without a tenant context see and write nothing; FORCE on${preview.viewGrants.length ? `; SELECT revoked on ${plural(preview.viewGrants.length, 'view grant')}` : ''}`,
    next: `The application must keep sending the tenant context (${contextAdvice(m)}). If it breaks: "tenant-migrate enforce --undo" goes back to transition mode.`,
    checks: preview.checks,
  };
};
