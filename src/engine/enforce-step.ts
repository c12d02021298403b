// The enforce step as the checklist, the CLI and "run --enforce" see it: what it denies, what it changed, audited.
import type { Session } from './db/session';
import type { CheckResult } from './events';
import type { MigrationModel } from './model';
import { appendAudit, type RunRecord } from './state';
import { contextAdvice, currentEnforcement, enforce, previewEnforce, undoEnforce, type EnforceOptions } from './enforce';

export interface EnforceStepOptions extends EnforceOptions {
  /** Back to transition mode. */
  readonly undo?: boolean;
  /** Inside "run" without --enforce: record that the run stopped before enforcing, and what the application must change. */
  readonly skip?: boolean;
}

interface StepBody { status?: 'done' | 'skipped'; summary: string; next?: string; checks: CheckResult[]; rows?: number }

export async function enforceStep(session: Session, m: MigrationModel, run: RunRecord | undefined, options: EnforceStepOptions): Promise<StepBody> {
  const audit = async (actions: string[]) => {
    if (run) for (const statement of actions) await appendAudit(session, run, { step: 'enforce', statement, outcome: 'ok' });
  };
  if (options.skip) {
    const preview = await previewEnforce(session, m, { ...options, appSendsContext: true });
    return { status: 'skipped', summary: 'not enforced: transition mode (requests without a tenant context keep their pre-migration access)',
      next: `Before "tenant-migrate enforce --app-sends-context": make sure ${contextAdvice(m)}.${preview.refusals.length ? ` Also: ${preview.refusals.join('; ')}.` : ''}`,
      checks: preview.checks };
  }
  if (options.undo) {
    const actions = await session.transaction(async () => {
      await session.query(`SET LOCAL lock_timeout = '${m.loaded.spec.lockTimeoutMs * 5}ms'`);
      return undoEnforce(session, m);
    });
    await audit(actions);
    return actions.length === 0
      ? { status: 'skipped', summary: 'isolation was not enforced: nothing to undo', checks: [] }
      : { summary: `back to transition mode: requests without a tenant context keep their pre-migration access (${actions.length} statements)`, checks: [] };
  }
  if (await currentEnforcement(session)) return { status: 'skipped', summary: 'isolation is already enforced', checks: [] };
  const { actions, preview } = await enforce(session, m, options);
  await audit(actions);
  return { summary: `enforced on ${m.tables.length} table(s): requests without a tenant context see and write nothing; FORCE on${preview.viewGrants.length ? `; SELECT revoked on ${preview.viewGrants.length} view grant(s)` : ''}`,
    next: 'If the application breaks: "tenant-migrate enforce --undo" goes back to transition mode.', checks: preview.checks };
}
