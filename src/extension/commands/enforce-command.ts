// Enforce isolation from the palette or the checklist: the operator confirms the application sends the tenant
// context (or chooses to go back to transition mode); the engine still refuses what it can see is not ready.
import * as vscode from 'vscode';
import type { Container } from '../container';
import { stepOperation } from '../run/operations';
import type { Summary } from '../run/runner';
import { STEP_REGISTRY } from '../../engine/steps';

export async function enforce(c: Container, args?: unknown): Promise<Summary | undefined> {
  let undo = (args as { undo?: unknown } | undefined)?.undo;
  if (typeof undo !== 'boolean') {
    const picked = await vscode.window.showQuickPick([
      { label: 'Enforce: requests without a tenant context see nothing', detail: 'I confirm the application sends the tenant context with every request. FORCE goes on: the tables\' owner is held too.', undo: false },
      { label: 'Undo enforcement: back to transition mode', detail: 'Requests without a tenant context get their pre-migration access back.', undo: true },
    ], { title: `Tenant Migration: ${STEP_REGISTRY.enforce.title}`, placeHolder: 'Enforce or undo', ignoreFocusOut: true });
    if (!picked) return undefined;
    undo = picked.undo;
  }
  const title = undo ? 'Undo Enforcement' : STEP_REGISTRY.enforce.command.title;
  return c.runner.run(stepOperation('enforce', title, { undo: undo as boolean, appSendsContext: !undo }));
}
