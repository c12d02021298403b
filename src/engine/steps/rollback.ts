// Undoes the migration in one transaction; with restoreData also puts every table back as backed up.
import { rollback } from '../rollback';
import type { StepBody } from '../step-context';
import { plural } from '../../shared/format';

export const body: StepBody = async (context, options) => {
  const result = await rollback(context.session, await context.model(), {
    restoreData: options.restoreData ?? false,
    acceptDataLoss: options.acceptDataLoss,
  });
  const restored = result.restored.map((r) => `${r.table} ${r.rows}`).join(', ');
  return {
    summary: `${plural(result.actions.length, 'change')} undone${restored ? `; restored ${restored}` : ''}; backups kept as ${result.backupsKeptAs.join(', ') || 'none'}${result.definerRoleKept ? `; ${result.definerRoleKept}` : ''}${result.authHookKept ? `; ${result.authHookKept}` : ''}`,
    checks: [],
    rollback: result,
  };
};
