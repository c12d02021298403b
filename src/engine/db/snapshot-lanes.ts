// Read-only queries run side by side on a session and short-lived siblings, all in the session's one snapshot.
import type { Session } from './session';

/**
 * The lanes' settings: hashes and sorts over a million rows spill to disk at the default 4 MB of work_mem; and the lanes
 * are the parallelism (a parallel plan's hash joins build the same hash in every worker: three times the work).
 */
const LANE_SETTINGS = `set_config('work_mem', '64MB', true), set_config('max_parallel_workers_per_gather', '0', true)`;

/** A queued work: resolves to its error, if it failed (the session's transaction is then aborted: it takes no more). */
type Work = { run: (session: Session) => Promise<unknown>; fail: (error: unknown) => void };

/**
 * Work is queued with `run` (it does not start yet) and done by `drain`, on the session and up to `width - 1`
 * siblings. The session must be in a REPEATABLE READ transaction (`Session.reading`): it exports its snapshot and
 * every sibling reads in it, read-only, so the answers are those of one moment, as if the session had run them all.
 * When the snapshot cannot be shared (no export on this server, no connection to spare), the session does it all.
 */
export class SnapshotLanes {
  private readonly queue: Work[] = [];
  private drained = false;

  private constructor(
    private readonly main: Session,
    private readonly width: number,
    private readonly snapshot: string | undefined,
  ) {}

  /**
   * Call it in the session's REPEATABLE READ transaction, outside any savepoint (PostgreSQL exports no snapshot from
   * a subtransaction). A standby cannot export one: there the session reads alone.
   */
  static async open(main: Session, width: number): Promise<SnapshotLanes> {
    if (width <= 1) return new SnapshotLanes(main, 1, undefined);
    const { rows } = await main.query<{ id: string | null }>(
      'SELECT CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_export_snapshot() END AS id',
    );
    return new SnapshotLanes(main, width, rows[0]!.id ?? undefined);
  }

  run<T>(work: (session: Session) => Promise<T>): Promise<T> {
    if (this.drained) throw new Error('SnapshotLanes.run after drain');
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        run: (session) =>
          work(session).then(
            (value) => void resolve(value),
            (error: unknown) => (reject(error), error ?? new Error('a read failed')),
          ),
        fail: reject,
      });
    });
  }

  /** Does every queued work; a work's failure rejects its own promise (and the caller's await of it), not the others. */
  async drain(): Promise<void> {
    this.drained = true;
    await this.main.query(`SELECT ${LANE_SETTINGS}`);
    const siblings = this.queue.length > 1 && this.width > 1 ? await this.siblings() : [];
    try {
      const errors = await Promise.all([this.main, ...siblings].map((session) => this.lane(session)));
      // Every lane stopped at an error: what is left fails with the first one.
      const first = errors.find((e) => e !== undefined);
      for (const work of this.queue.splice(0)) work.fail(first);
    } finally {
      // Closing a sibling ends its read-only transaction: there is nothing in it to commit.
      await Promise.all(siblings.map((s) => s.close()));
    }
  }

  /** Takes work until the queue is empty, or until one fails on this session (returned: what it failed with). */
  private async lane(session: Session): Promise<unknown> {
    for (let work = this.queue.shift(); work; work = this.queue.shift()) {
      const error = await work.run(session);
      if (error !== undefined) return error;
    }
    return undefined;
  }

  /** Siblings reading in the session's snapshot, each in an open read-only transaction (none when it cannot be). */
  private async siblings(): Promise<Session[]> {
    const snapshot = this.snapshot;
    if (!snapshot) return [];
    const count = Math.min(this.width, this.queue.length) - 1;
    const opened = await Promise.allSettled(
      Array.from({ length: count }, async () => {
        const s = await this.main.sibling('tenant-migration read');
        try {
          await s.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
          // Before any query of the transaction, or PostgreSQL refuses it.
          await s.query(`SET TRANSACTION SNAPSHOT '${snapshot.replace(/'/g, "''")}'`);
          await s.query(`SELECT ${LANE_SETTINGS}, set_config('row_security', 'off', true)`);
          return s;
        } catch (error) {
          await s.close();
          throw error;
        }
      }),
    );
    return opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
  }
}
