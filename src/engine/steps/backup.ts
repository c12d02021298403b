// Takes the backups (the script's prepare and backup phases) and checks each against its recorded digest.
import { currentBackups, droppedBackupTables, verifyBackups } from '../backups';
import { plural } from '../../shared/format';
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
  const before = new Set((await currentBackups(context.session)).map((b) => b.backupTable));
  await runScript(source, { ...context.scriptRun('backup'), phases: STEP_REGISTRY.backup.scriptPhases });
  const backups = await verifyBackups(context.session, (record) => !before.has(record.backupTable));
  const dropped = await droppedBackupTables(context.session);
  const tables = (await context.model()).tables;
  const signedOff = (t: (typeof tables)[number]) =>
    dropped.has(`${t.name.schema}.${t.name.name}`) &&
    !backups.some((x) => x.record.table.schema === t.name.schema && x.record.table.name === t.name.name);
  if (tables.every(signedOff)) {
    return {
      status: 'skipped',
      summary:
        "not taken again: cleanup dropped this migration's backups after sign-off (roll back first to start a new migration)",
      checks: [],
    };
  }
  const checks: CheckResult[] = tables.map((t) => {
    const b = backups.find((x) => x.record.table.schema === t.name.schema && x.record.table.name === t.name.name);
    const name = `${displayName(t.name)}: backup`;
    if (!b && signedOff(t)) return { name, ok: true, detail: 'dropped by cleanup after sign-off' };
    if (!b)
      return { name, ok: false, detail: 'no backup was recorded: is the backup section missing from the script?' };
    const taken = `tenant_migration.${b.record.backupTable}: ${plural(b.record.rowCount, 'row')}, taken ${b.record.takenAt.toISOString()}${b.justTaken ? ' (its digest computed from the copy as it was written)' : ', digest matches'}`;
    return {
      name,
      ok: b.matches,
      detail: b.matches
        ? taken
        : b.present
          ? `tenant_migration.${b.record.backupTable} does not match its recorded digest`
          : `tenant_migration.${b.record.backupTable} is missing`,
    };
  });
  const rows = backups.reduce((n, b) => n + b.record.rowCount, 0);
  return { summary: `${plural(backups.length, 'backup')}, ${plural(rows, 'row')}`, rows, checks };
};
