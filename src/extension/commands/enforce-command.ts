// Enforce isolation from the palette or the checklist: the operator confirms the application sends the tenant
// context (or chooses to go back to transition mode); the engine still refuses what it can see is not ready.
import type { Container } from '../container';
import { chooseFlag } from './choice';
import { stepOperation } from '../run/operations';
import type { Summary } from '../run/runner';
import { STEP_REGISTRY } from '../../engine/steps';

export async function enforce(c: Container, args?: unknown): Promise<Summary | undefined> {
  const undo = await chooseFlag(
    args,
    'undo',
    [
      {
        label: 'Enforce: requests without a tenant context see nothing',
        detail:
          "I confirm the application sends the tenant context with every request. FORCE goes on: the tables' owner is held too.",
      },
      {
        label: 'Undo enforcement: back to transition mode',
        detail: 'Requests without a tenant context get their pre-migration access back.',
      },
    ],
    `Tenant Migration: ${STEP_REGISTRY.enforce.title}`,
    'Enforce or undo',
  );
  if (undo === undefined) return undefined;
  const title = undo ? 'Undo Enforcement' : STEP_REGISTRY.enforce.command.title;
  return c.runner.run(stepOperation('enforce', title, { undo, appSendsContext: !undo }));
}
