// Turns the script's progress notices (the backup's copy, the backfill) into fractions and an estimate of the time left.
import type { ProgressInfo } from '../events';

/** rowsBefore: the rows a backfill gave their org in earlier runs (absent from notices of older scripts). */
export interface RawProgress {
  action?: 'backup' | 'backfill';
  table: string;
  pagesDone: number;
  pagesTotal: number;
  rowsDone: number;
  rowsBefore?: number;
  rowsEstimate: number;
}

export class ProgressTracker {
  private started = new Map<string, { at: number; pages: number }>();

  update(raw: RawProgress, now = performance.now()): ProgressInfo {
    const action = raw.action ?? 'backfill';
    const key = `${action}:${raw.table}`;
    const first = this.started.get(key);
    if (!first) this.started.set(key, { at: now, pages: raw.pagesDone });
    let etaMs: number | undefined;
    if (first && raw.pagesDone > first.pages) {
      const rate = (raw.pagesDone - first.pages) / (now - first.at);
      etaMs = Math.max(0, Math.round((raw.pagesTotal - raw.pagesDone) / rate));
    }
    return {
      action,
      table: raw.table,
      done: raw.pagesDone,
      total: raw.pagesTotal,
      rowsDone: raw.rowsDone,
      rowsEstimate: raw.rowsEstimate,
      etaMs,
    };
  }
}
