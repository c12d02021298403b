// `tenant-migrate status`: the state the database records (readStatus, the same the checklist shows), as text.
import { MANUAL_ITEMS, STEP_TITLES } from '../engine/events';
import { MANUAL_ITEM_IDS, describeManualItems } from '../engine/manual-items';
import type { StatusInfo } from '../engine/status';
import { formatCount } from '../shared/format';

export function renderStatus(status: StatusInfo): string[] {
  const mode = status.enforced
    ? 'migrated, isolation enforced'
    : 'migrated, transition mode (requests without a tenant context keep their old access until "enforce")';
  const lines = [`${status.database}: ${status.migrated ? mode : 'not migrated'}`];
  if (status.lastRollback)
    lines.push(`Rolled back at ${status.lastRollback.at}: the steps recorded before it were undone.`);
  for (const s of status.steps) {
    const state = s.undone ? 'undone' : s.status;
    lines.push(`  ${state.padEnd(8)} ${STEP_TITLES[s.step]}${s.summary && !s.undone ? ` — ${s.summary}` : ''}`);
  }
  if (!status.migrated && status.backfill.some((b) => !b.completed || b.rowsDone > 0)) {
    lines.push('Backfill so far (the next "migrate" or "run" resumes here):');
    for (const { table } of status.tables) {
      const b = status.backfill.find((x) => x.table === table);
      const pct = b && b.pagesTotal > 0 ? Math.floor((b.pagesDone / b.pagesTotal) * 100) : 0;
      lines.push(
        !b
          ? `  ${table}: not started`
          : `  ${table}: ${b.completed ? 'complete' : `${pct}%`} · ${formatCount(b.rowsDone)} rows · pages ${formatCount(b.pagesDone)} of ${formatCount(b.pagesTotal)}`,
      );
    }
  }
  const ticked = new Set(status.manualItems.map((m) => m.item));
  const unticked = MANUAL_ITEM_IDS.filter((id) => !ticked.has(MANUAL_ITEMS[id]));
  lines.push(
    unticked.length
      ? `Manual prerequisites not ticked: ${describeManualItems(unticked)} (once done: "tenant-migrate tick ${unticked.join(' ')}")`
      : 'Manual prerequisites: all ticked.',
  );
  if (status.lastRun) {
    const run = status.lastRun;
    lines.push(
      `Last run: "${run.command}" by ${run.operator}, started ${run.startedAt}${run.finishedAt ? `, finished ${run.finishedAt}` : ''}: ${run.status}`,
    );
  }
  if (status.lockHeldBy)
    lines.push(
      `Running now: pid ${status.lockHeldBy.pid} (${status.lockHeldBy.operator ?? status.lockHeldBy.user}) since ${status.lockHeldBy.since.toISOString()}`,
    );
  return lines;
}
