// Messages between the runner and its child processes (the writer and the lock monitor).

export type WriterCommand =
  | { readonly type: 'start'; readonly url: string; readonly rate: number; readonly credentials: number }
  | { readonly type: 'stop' };

export interface WriterOp {
  readonly k: number;
  /** When the op was due (wall clock, ms since the epoch). */
  readonly dueEpochMs: number;
  /** From when it was due to when it committed (or failed). */
  readonly latencyMs: number;
  /** Of which: from when it was due to holding a connection (a late timer, every pooled connection busy). */
  readonly queuedMs: number;
  readonly ok: boolean;
}

export interface WriterReport {
  readonly type: 'report';
  readonly issued: number;
  readonly ops: WriterOp[];
  readonly errors: { message: string; count: number }[];
}

export type MonitorCommand =
  { readonly type: 'start'; readonly url: string; readonly intervalMs: number } | { readonly type: 'stop' };

/** The longest lock wait seen for one application_name. */
export interface LockWait {
  readonly app: string;
  readonly waitMs: number;
  readonly atEpochMs: number;
  readonly lock: string;
  readonly query: string;
  readonly blockers: string;
}

export interface MonitorReport {
  readonly type: 'report';
  readonly samples: number;
  readonly errors: number;
  readonly lastError: string;
  /** The slowest sample (a monitor that cannot sample every intervalMs sees less). */
  readonly maxSampleMs: number;
  readonly longest: LockWait[];
}
