// A passed or failed check (prerequisites, validation), and one still being worked out by a lane.
import type { CheckResult } from './events';

/** A check as it is being worked out: the catalog's answers at once, the scans' when the lanes have done them. */
export type Pending = CheckResult | Promise<CheckResult>;

export const ok = (name: string, detail: string): CheckResult => ({ name, ok: true, detail });

export const bad = (name: string, detail: string, severity: 'error' | 'warning' = 'error'): CheckResult => ({
  name,
  ok: false,
  detail,
  severity,
});
