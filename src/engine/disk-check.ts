// The bytes estimate in words, and the prerequisite that refuses a run the disk cannot hold (it would fail halfway).
import type { CheckResult } from './events';
import type { DiskEstimate } from './disk-estimate';
import { formatBytes } from '../shared/format';

/** What the run writes, part by part: "backups 120 MB + backfill 40 MB + …". */
export function diskParts(d: DiskEstimate): string {
  return [
    `backups ${formatBytes(d.backups)}`,
    `new row versions ${formatBytes(d.backfill)}`,
    `rebuilt indexes ${formatBytes(d.reindex)} (one table at a time)`,
    `org indexes ${formatBytes(d.orgIndexes)}`,
    `assignment tables and ledger ${formatBytes(d.helperTables)}`,
    `WAL kept ${formatBytes(d.walKept)} of ${formatBytes(d.walWritten)} written`,
  ].join(' + ');
}

export function diskCheck(d: DiskEstimate): CheckResult {
  const name = 'Disk space';
  const needed = `about ${formatBytes(d.needed)} must be free on the server's disk at the run's peak (${diskParts(d)})`;
  if (!d.free.known)
    return {
      name,
      ok: false,
      severity: 'warning',
      detail: `${needed}; the free space is unknown: ${d.free.why}. Check that at least ${formatBytes(d.needed)} is free where the database lives before the run.`,
    };
  if (d.free.bytes < d.needed)
    return {
      name,
      ok: false,
      severity: 'error',
      detail: `${needed}, but only ${formatBytes(d.free.bytes)} is free at ${d.free.where}: the run would fail partway. Free at least ${formatBytes(d.needed - d.free.bytes)} on that disk (or grow it), then run again.`,
    };
  return { name, ok: true, detail: `${needed}; ${formatBytes(d.free.bytes)} is free at ${d.free.where}` };
}
