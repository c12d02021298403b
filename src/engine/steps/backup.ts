// Takes the backups (the script's prepare and backup phases) and checks each against its recorded digest.
import { verifyBackups } from '../backups';
import { displayName } from '../db/sql';
import type { CheckResult } from '../events';
import { runScript, parseUnits } from '../execute/runner';
import { generateScript } from '../script/generate';
import { STEP_REGISTRY } from '../steps';
import type { StepBody } from '../step-context';

export const body: StepBody = async (context) => {
  await context.assertCanWrite();
  const { text } = await context.scriptText();
  // A script without phase markers (written by hand) cannot say where its backups are: the generated ones run.
  const hasPhases = (await parseUnits(text)).some((u) => u.phase === 'backup');
  const source = hasPhases ? text : generateScript(await context.model());
  await runScript(source, { ...context.scriptRun('backup'), phases: STEP_REGISTRY.backup.scriptPhases });
  const backups = await verifyBackups(context.session);
  const checks: CheckResult[] = (await context.model()).tables.map((t) => {
    const b = backups.find((x) => x.record.table.schema === t.name.schema && x.record.table.name === t.name.name);
    const name = `${displayName(t.name)}: backup`;
    if (!b) return { name, ok: false, detail: 'no backup was recorded: is the backup section missing from the script?' };
    return { name, ok: b.matches, detail: b.matches ? `tenant_migration.${b.record.backupTable}: ${b.record.rowCount} rows, taken ${b.record.takenAt.toISOString()}` : `tenant_migration.${b.record.backupTable} does not match its recorded digest` };
  });
  const rows = backups.reduce((n, b) => n + b.record.rowCount, 0);
  return { summary: `${checks.length} backups, ${rows} rows`, rows, checks };
};
