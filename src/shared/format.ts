// Number and size formatting for the plan preview. Pure: no 'vscode', no DOM.

/** 1 234 567 → "1,234,567" (en-US grouping, so screenshots and tests do not depend on the machine's locale). */
const COUNT_FORMAT = new Intl.NumberFormat('en-US');

export function formatCount(n: number): string {
  return COUNT_FORMAT.format(Math.round(n));
}

/** Bytes in binary units, one decimal above a kilobyte ("72.0 kB"), as the CLI prints them. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

/** "1 row", "3 rows". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

/**
 * A table's rows in a backup's copy ("1,200/4,000 rows") or a backfill. A backfill's: those given their org (all runs),
 * against the table's estimated size while it runs ("1,200 of ~4,000 rows given their org"). That estimate is the
 * planner's (or a count when never analysed) and includes rows that already had an org, so it is never shown as a
 * finished table's total.
 */
export function progressRows(p: {
  action?: 'backup' | 'backfill';
  rowsDone: number;
  rowsEstimate: number;
  done: number;
  total: number;
}): string {
  if (p.action === 'backup')
    return p.rowsEstimate > 0
      ? `${formatCount(p.rowsDone)}/${formatCount(Math.max(p.rowsEstimate, p.rowsDone))} rows`
      : plural(p.rowsDone, 'row');
  const what = `${p.rowsDone === 1 ? 'row' : 'rows'} given their org`;
  if (p.done >= p.total || p.rowsEstimate <= 0) return `${formatCount(p.rowsDone)} ${what}`;
  return `${formatCount(p.rowsDone)} of ~${formatCount(p.rowsEstimate)} ${what}`;
}

/** How checks count everywhere (CLI, checklist, report): a warning is neither a pass nor a failure. */
export function countChecks(checks: readonly { ok: boolean; severity?: string }[]): {
  total: number;
  passed: number;
  failed: number;
  warnings: number;
} {
  const failed = checks.filter((c) => !c.ok && c.severity !== 'warning').length;
  const warnings = checks.filter((c) => !c.ok && c.severity === 'warning').length;
  return { total: checks.length, passed: checks.length - failed - warnings, failed, warnings };
}

/** "14 checks passed", "13 of 14 checks passed, 1 warning", "2 of 14 checks failed, 1 warning". */
export function formatCheckCount(checks: readonly { ok: boolean; severity?: string }[]): string {
  const { total, passed, failed, warnings } = countChecks(checks);
  const warned = warnings ? `, ${plural(warnings, 'warning')}` : '';
  if (failed) return `${formatCount(failed)} of ${plural(total, 'check')} failed${warned}`;
  return passed === total
    ? `${plural(total, 'check')} passed`
    : `${formatCount(passed)} of ${plural(total, 'check')} passed${warned}`;
}
